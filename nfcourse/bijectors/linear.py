r"""A learnable invertible linear map with a bias, parametrised by an LU factorisation.

The "part 1" flow of lesson 00 mixes coordinates with this layer between PReLUs.
Writing $W = LU$ with $L$ unit lower triangular and $U$ upper triangular makes both the
determinant and the inverse cheap: $\det W = \prod_i U_{ii}$, and the inverse is two
triangular solves instead of a general matrix inverse.

Math:      $x = W u + b$, $W = LU$, $U_{ii} = \exp(s_i)$; log-det $+\sum_i s_i$ (forward), $-\sum_i s_i$ (inverse)
Shapes:    u, x: (batch, D); logdet: (batch,)
Numerics:  $s$ is soft-clamped, so $W$ never becomes singular
Reference: Kingma & Dhariwal, Glow, 2018, arXiv:1807.03039 (the LU-parametrised 1x1 convolution)
Lessons:   00, 05
"""

from __future__ import annotations

import torch
from torch import nn

from nfcourse.bijectors.base import Bijector
from nfcourse.bijectors.clamp import soft_clamp
from nfcourse.i18n import N_
from nfcourse.validation import check_points, check_positive_int


class AffineLU(Bijector):
    r"""$x = LU\,u + b$: a full invertible affine map, starting at the identity."""

    title = N_("affine map (LU)")

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.dim = check_positive_int(dim, "dim")
        self.lower = nn.Parameter(torch.zeros(dim, dim))  # only the strict lower triangle is used
        self.upper = nn.Parameter(torch.zeros(dim, dim))  # only the strict upper triangle is used
        self.raw_s = nn.Parameter(torch.zeros(dim))
        self.b = nn.Parameter(torch.zeros(dim))

    @property
    def s(self) -> torch.Tensor:
        return soft_clamp(self.raw_s)

    def factors(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The triangular factors $(L, U)$ of $W$, built from the free parameters."""
        eye = torch.eye(self.dim, dtype=self.lower.dtype, device=self.lower.device)
        L = torch.tril(self.lower, diagonal=-1) + eye
        U = torch.triu(self.upper, diagonal=1) + torch.diag(torch.exp(self.s))
        return L, U

    def weight(self) -> torch.Tensor:
        """The matrix $W = LU$."""
        L, U = self.factors()
        return L @ U

    def forward(self, u: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        check_points(u, self.dim, "u")
        x = u @ self.weight().T + self.b
        return x, self.s.sum().expand(u.shape[0])

    def inverse(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        check_points(x, self.dim, "x")
        L, U = self.factors()
        rhs = (x - self.b).T  # (D, batch): solve W u^T = (x - b)^T
        y = torch.linalg.solve_triangular(L, rhs, upper=False, unitriangular=True)
        u = torch.linalg.solve_triangular(U, y, upper=True).T
        return u, (-self.s.sum()).expand(x.shape[0])
