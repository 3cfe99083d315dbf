r"""Fixed permutations of the coordinates: $x_i = u_{\pi(i)}$.

Autoregressive and coupling layers treat the coordinates in a fixed order; a permutation
between layers lets every coordinate take every role. A permutation matrix has
$|\det P| = 1$, so the log-det is 0 in both directions.

Lessons: 02 onwards (MAF, Real-NVP)
"""

from __future__ import annotations

import torch

from nfcourse.bijectors.base import Bijector
from nfcourse.i18n import N_, _
from nfcourse.validation import check_points, check_positive_int


class Permutation(Bijector):
    r"""Reorder the coordinates: forward $x = u[:, \pi]$, inverse $u = x[:, \pi^{-1}]$; log-det 0."""

    title = N_("permutation")

    def __init__(self, permutation: torch.Tensor | list[int]) -> None:
        super().__init__()
        perm = torch.as_tensor(permutation, dtype=torch.long)
        if perm.ndim != 1 or not torch.equal(torch.sort(perm).values, torch.arange(len(perm))):
            raise ValueError(_("{perm} is not a permutation of 0, ..., D-1.").format(perm=perm.tolist()))
        self.register_buffer("permutation", perm)
        self.register_buffer("inverse_permutation", torch.argsort(perm))

    @property
    def dim(self) -> int:
        return len(self.permutation)

    def forward(self, u: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        check_points(u, self.dim, "u")
        return u[:, self.permutation], u.new_zeros(u.shape[0])

    def inverse(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        check_points(x, self.dim, "x")
        return x[:, self.inverse_permutation], x.new_zeros(x.shape[0])


def reverse(dim: int) -> Permutation:
    """The permutation that reverses the order of `dim` coordinates."""
    return Permutation(torch.arange(check_positive_int(dim, "dim") - 1, -1, -1))


def random_permutation(dim: int, seed: int) -> Permutation:
    """A random permutation of `dim` coordinates, the same for the same `seed`."""
    generator = torch.Generator().manual_seed(seed)
    return Permutation(torch.randperm(check_positive_int(dim, "dim"), generator=generator))
