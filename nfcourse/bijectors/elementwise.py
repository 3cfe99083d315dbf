r"""Bijectors that act on each coordinate separately: their Jacobians are diagonal.

With a diagonal Jacobian, $\log|\det J| = \sum_i \log|\partial x_i / \partial u_i|$: a sum over
coordinates, computed in the same pass as the map itself. Lesson 00 builds the "part 1" flow
from these and a mixing `AffineLU` layer.
"""

from __future__ import annotations

import torch
from torch import nn

from nfcourse.bijectors.base import Bijector
from nfcourse.bijectors.clamp import soft_clamp
from nfcourse.i18n import N_, _
from nfcourse.validation import check_points, check_positive_int


class ElementwiseAffine(Bijector):
    r"""Learnable scale and shift per coordinate: $x_i = u_i \exp(\alpha_i) + \mu_i$.

    Math:      inverse $u_i = (x_i - \mu_i)\exp(-\alpha_i)$; log-dets $+\sum_i\alpha_i$ / $-\sum_i\alpha_i$
    Shapes:    u, x: (batch, D); logdet: (batch,)
    Numerics:  $\alpha$ = `soft_clamp` of a free parameter, so the scale stays in $(e^{-5}, e^5)$
    `shift=False` fixes $\mu = 0$: NICE's final diagonal scaling layer $x_i = u_i \exp(\alpha_i)$ (lesson 04).
    Lessons:   00, 04, 05 (`ActNorm` is this map with a data-dependent start)
    """

    title = N_("elementwise affine map")

    def __init__(self, dim: int, shift: bool = True) -> None:
        super().__init__()
        self.dim = check_positive_int(dim, "dim")
        if shift:
            self.mu = nn.Parameter(torch.zeros(dim))
        else:
            self.register_buffer("mu", torch.zeros(dim))
        self.raw_alpha = nn.Parameter(torch.zeros(dim))

    @property
    def alpha(self) -> torch.Tensor:
        return soft_clamp(self.raw_alpha)

    def forward(self, u: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        check_points(u, self.dim, "u")
        x = u * torch.exp(self.alpha) + self.mu
        return x, self.alpha.sum().expand(u.shape[0])

    def inverse(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        check_points(x, self.dim, "x")
        u = (x - self.mu) * torch.exp(-self.alpha)
        return u, (-self.alpha.sum()).expand(x.shape[0])


class PReLU(Bijector):
    r"""Parametric ReLU with a positive slope $a_i$ for negative inputs: $x_i = u_i$ if $u_i \ge 0$, else $a_i u_i$.

    Math:      inverse $u_i = x_i$ if $x_i \ge 0$, else $x_i / a_i$ (signs are kept, since $a_i > 0$);
               forward log-det $\sum_{i:\,u_i<0} \log a_i$, inverse log-det $-\sum_{i:\,x_i<0} \log a_i$
    Shapes:    u, x: (batch, D); logdet: (batch,)
    Numerics:  $a_i = \exp(\mathrm{soft\_clamp}(\cdot))$ is positive, so the map stays invertible
    Reference: He et al., Delving Deep into Rectifiers, 2015, arXiv:1502.01852
    Lessons:   00
    """

    title = N_("PReLU")

    def __init__(self, dim: int, slope: float = 0.5) -> None:
        super().__init__()
        self.dim = check_positive_int(dim, "dim")
        if not slope > 0:
            raise ValueError(_("slope must be positive for PReLU to be invertible, got {slope}.").format(slope=slope))
        self.raw_log_slope = nn.Parameter(torch.full((dim,), float(torch.log(torch.tensor(slope)))))

    @property
    def log_slope(self) -> torch.Tensor:
        return soft_clamp(self.raw_log_slope)

    def forward(self, u: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        check_points(u, self.dim, "u")
        negative = u < 0
        x = torch.where(negative, u * torch.exp(self.log_slope), u)
        return x, (negative * self.log_slope).sum(dim=1)

    def inverse(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        check_points(x, self.dim, "x")
        negative = x < 0
        u = torch.where(negative, x * torch.exp(-self.log_slope), x)
        return u, -(negative * self.log_slope).sum(dim=1)
