r"""Coupling layers (NICE, Real-NVP): half of the coordinates pass unchanged and set the other half's map.

A binary mask $b$ marks the coordinates that pass through ($b_i = 1$). A network reads only those and
returns a shift $\mu$ and a log-scale $\alpha$ for the others:

Math:      forward (sampling)  $x = b \odot u + (1 - b) \odot \big(u\,e^{\alpha(b \odot u)} + \mu(b \odot u)\big)$
           inverse (density)   $u = b \odot x + (1 - b) \odot \big(x - \mu(b \odot x)\big)\,e^{-\alpha(b \odot x)}$
           log-dets            forward $+\sum_i (1 - b_i)\,\alpha_i$,  inverse $-\sum_i (1 - b_i)\,\alpha_i$
Why:       $b \odot x = b \odot u$, so both directions see the same network input: each is one pass,
           and the network itself is never inverted. Sorted kept-first, the Jacobian is block triangular
           with the identity in the kept block and $\mathrm{diag}(e^{\alpha})$ in the other.
Special:   additive coupling (NICE) has $\alpha = 0$: log-det 0, the layer preserves volume.
           A coupling layer is an affine autoregressive layer whose conditioner sees only the kept block,
           so it is a MAF layer and an IAF layer at once (lesson 04 shows it; tests/test_coupling.py checks it).
Numerics:  $\alpha$ = soft_clamp of the network's output, as in the autoregressive layer
Reference: Dinh et al., NICE, 2014, arXiv:1410.8516; Dinh et al., Density estimation using Real NVP, 2016,
           arXiv:1605.08803
Lessons:   04, 05
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from nfcourse.bijectors.base import Bijector, Compose
from nfcourse.bijectors.clamp import DEFAULT_BOUND, soft_clamp
from nfcourse.bijectors.elementwise import ElementwiseAffine
from nfcourse.bijectors.stacking import between_layers, check_choice
from nfcourse.conditioners.mlp import mlp
from nfcourse.i18n import N_, _
from nfcourse.validation import check_points, check_positive_int

MASKS = ("half", "alternating")


def half_mask(dim: int, flip: bool = False) -> torch.Tensor:
    """1 for the first `dim // 2` coordinates (they pass unchanged), 0 for the rest; `flip` swaps the roles."""
    mask = torch.arange(check_positive_int(dim, "dim")) < dim // 2
    return (mask ^ flip).float()


def alternating_mask(dim: int, flip: bool = False) -> torch.Tensor:
    """1, 0, 1, 0, ...: the even coordinates pass unchanged; `flip` swaps the roles."""
    mask = torch.arange(check_positive_int(dim, "dim")) % 2 == 0
    return (mask ^ flip).float()


def checkerboard_mask(height: int, width: int, flip: bool = False) -> torch.Tensor:
    """For a (height, width) image flattened row by row: 1 where row + column is even, like a chessboard."""
    rows = torch.arange(check_positive_int(height, "height"))[:, None]
    columns = torch.arange(check_positive_int(width, "width"))[None, :]
    mask = (rows + columns) % 2 == 0
    return (mask ^ flip).float().reshape(-1)


def coupling_mask(dim: int, pattern: str = "half", flip: bool = False) -> torch.Tensor:
    """The mask called `pattern` ("half" or "alternating"); images use `checkerboard_mask`."""
    check_choice(pattern, MASKS, "mask")
    return half_mask(dim, flip) if pattern == "half" else alternating_mask(dim, flip)


class AffineCoupling(Bijector):
    """The Real-NVP coupling layer: the kept coordinates (mask 1) set a shift and a log-scale for the others.

    `mask`: a 0/1 tensor of shape (D,). `hidden_sizes`: the network's hidden layers (ReLU). With
    `zero_last_layer` (the default) the layer starts as the identity map; `realnvp` and `nice` start their
    layers randomly unless told otherwise.
    """

    title = N_("affine coupling layer")
    outputs = 2  # shift and log-scale per coordinate

    def __init__(
        self,
        mask: torch.Tensor,
        hidden_sizes: Sequence[int] = (64, 64),
        bound: float = DEFAULT_BOUND,
        zero_last_layer: bool = True,
    ) -> None:
        super().__init__()
        mask = torch.as_tensor(mask, dtype=torch.float32)
        if mask.ndim != 1 or not bool(((mask == 0) | (mask == 1)).all()):
            raise ValueError(_("A coupling mask must be a vector of zeros and ones, got {mask}.").format(mask=mask))
        self.dim = len(mask)
        self.register_buffer("mask", mask)
        self.bound = bound
        self.net = mlp(self.dim, hidden_sizes, self.outputs * self.dim, zero_last_layer)

    def conditioner(self, x: torch.Tensor) -> torch.Tensor:
        """The network's raw output, (batch, outputs, D), from the kept coordinates only; 0 on the kept ones."""
        raw = self.net(x * self.mask).view(x.shape[0], self.outputs, self.dim)
        return raw * (1 - self.mask)

    def shift_and_log_scale(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        r"""$(\mu, \alpha)$, each (batch, D), both 0 on the kept coordinates."""
        mu, raw_alpha = self.conditioner(x).unbind(dim=1)
        return mu, soft_clamp(raw_alpha, self.bound)

    def forward(self, u: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        check_points(u, self.dim, "u")
        mu, alpha = self.shift_and_log_scale(u)
        return u * torch.exp(alpha) + mu, alpha.sum(dim=1)

    def inverse(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        check_points(x, self.dim, "x")
        mu, alpha = self.shift_and_log_scale(x)
        return (x - mu) * torch.exp(-alpha), -alpha.sum(dim=1)


class AdditiveCoupling(AffineCoupling):
    r"""The NICE coupling layer: only a shift, $\alpha = 0$, so the log-det is 0 and volume is preserved."""

    title = N_("additive coupling layer")
    outputs = 1  # a shift per coordinate

    def shift_and_log_scale(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mu = self.conditioner(x)[:, 0]
        return mu, torch.zeros_like(mu)


def coupling_stack(
    coupling: type[AffineCoupling],
    dim: int,
    layers: int,
    hidden_sizes: Sequence[int],
    mask: str,
    permutation: str,
    normalization: str,
    seed: int,
    zero_last_layer: bool,
) -> list[Bijector]:
    """`layers` coupling layers whose masks alternate (flip, no flip, ...), with `between_layers` between."""
    check_positive_int(layers, "layers")
    steps: list[Bijector] = []
    for k in range(layers):
        steps += between_layers(dim, k, permutation, normalization, seed)
        pattern = coupling_mask(dim, mask, flip=k % 2 == 1)
        steps.append(coupling(pattern, hidden_sizes, zero_last_layer=zero_last_layer))
    return steps


def realnvp(
    dim: int,
    layers: int = 5,
    hidden_sizes: Sequence[int] = (64, 64),
    mask: str = "half",
    permutation: str = "none",
    normalization: str = "none",
    seed: int = 0,
    zero_last_layer: bool = False,
) -> Compose:
    """Real-NVP: `layers` affine coupling layers whose masks alternate, so every coordinate gets transformed.

    `mask` is "half" or "alternating"; `permutation` and `normalization` put a permutation, an LU layer or a
    normalization between the layers (see `between_layers`), and `zero_last_layer` chooses the networks' start,
    as in `maf` (random by default). Both directions are one pass per layer.
    """
    steps = coupling_stack(
        AffineCoupling, dim, layers, hidden_sizes, mask, permutation, normalization, seed, zero_last_layer
    )
    return Compose(*steps)


def nice(
    dim: int,
    layers: int = 4,
    hidden_sizes: Sequence[int] = (64, 64),
    mask: str = "half",
    permutation: str = "none",
    normalization: str = "none",
    seed: int = 0,
    zero_last_layer: bool = False,
) -> Compose:
    """NICE: `layers` additive coupling layers (log-det 0), then a diagonal scaling, the only change of volume.

    Arguments as in `realnvp`.
    """
    steps = coupling_stack(
        AdditiveCoupling, dim, layers, hidden_sizes, mask, permutation, normalization, seed, zero_last_layer
    )
    return Compose(*steps, ElementwiseAffine(dim, shift=False))
