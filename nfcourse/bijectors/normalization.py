r"""Normalization layers as bijectors: BatchNorm (Real-NVP, MAF) and ActNorm (Glow).

A deep flow trains better when the input of every layer keeps a sensible scale. These layers rescale
each coordinate, so their Jacobian is diagonal and the log-det is a sum over coordinates.

BatchNorm, in the density direction (inverse, data -> noise), with learnable log-scale $\gamma$ and shift $\beta$:

Math:      inverse  $u = \dfrac{x - m}{\sqrt{v + \varepsilon}}\, e^{\gamma} + \beta$,
           forward  $x = (u - \beta)\, e^{-\gamma} \sqrt{v + \varepsilon} + m$
Log-det:   $\partial u_i / \partial x_i = e^{\gamma_i} / \sqrt{v_i + \varepsilon}$ and nothing else, so
           inverse $\sum_i \big(\gamma_i - \tfrac12 \log(v_i + \varepsilon)\big)$, forward its negative
Statistics: in training mode `inverse` uses the batch's mean $m$ and (biased) variance $v$, with their
           gradients, and moves the running averages towards them; `forward` (sampling: no data batch)
           and eval mode use the running averages, so in eval mode the layer is one fixed affine map.
Momentum:  `running_average`: $r \leftarrow r + \text{mom}\,(b - r) = (1 - \text{mom})\,r + \text{mom}\,b$;
           momentum 0.05 by default, so a running average remembers about the last 1/0.05 = 20 batches.
           An update written $m \leftarrow m - \text{decay}\,(m - b)$ is the same rule with momentum = decay:
           decay 0.95 follows the last batch almost entirely (lesson 05 shows it).
Reference: Dinh et al., Density estimation using Real NVP, 2016, arXiv:1605.08803 (section 3.7);
           Kingma & Dhariwal, Glow, 2018, arXiv:1807.03039 (ActNorm)
Lessons:   05
"""

from __future__ import annotations

import torch
from torch import nn

from nfcourse.bijectors.base import Bijector
from nfcourse.bijectors.clamp import soft_unclamp
from nfcourse.bijectors.elementwise import ElementwiseAffine
from nfcourse.i18n import N_, _
from nfcourse.validation import check_points, check_positive_int

DEFAULT_MOMENTUM = 0.05
DEFAULT_EPS = 1e-5


def running_average(running: torch.Tensor, batch: torch.Tensor, momentum: float = DEFAULT_MOMENTUM) -> torch.Tensor:
    r"""One step of an exponential moving average, $r + \text{momentum}\,(b - r)$: the new value weighs `momentum`."""
    if not 0 < momentum <= 1:
        raise ValueError(_("momentum must lie in (0, 1], got {momentum}.").format(momentum=momentum))
    return running + momentum * (batch - running)


def need_two_points(x: torch.Tensor, layer: str) -> None:
    if x.shape[0] < 2:
        raise ValueError(
            _(
                "{layer} needs at least 2 points in a training batch to compute a variance, got {count}; "
                "call .eval() to use it on single points."
            ).format(layer=layer, count=x.shape[0])
        )


class BatchNorm(Bijector):
    """The BatchNorm bijector of Real-NVP; see the module's docstring for the formulas and the two modes."""

    title = N_("batch normalization")

    def __init__(self, dim: int, momentum: float = DEFAULT_MOMENTUM, eps: float = DEFAULT_EPS) -> None:
        super().__init__()
        self.dim = check_positive_int(dim, "dim")
        running_average(torch.zeros(()), torch.zeros(()), momentum)  # rejects a bad momentum now
        if not eps > 0:
            raise ValueError(_("eps must be positive, got {eps}.").format(eps=eps))
        self.momentum, self.eps = momentum, eps
        self.log_scale = nn.Parameter(torch.zeros(dim))  # gamma
        self.shift = nn.Parameter(torch.zeros(dim))  # beta
        self.register_buffer("running_mean", torch.zeros(dim))
        self.register_buffer("running_var", torch.ones(dim))

    def statistics(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(mean, variance) for inverse: the batch's in training mode (running ones updated), else the running ones"""
        if not self.training:
            return self.running_mean, self.running_var
        need_two_points(x, "BatchNorm")
        mean, var = x.mean(dim=0), x.var(dim=0, unbiased=False)
        with torch.no_grad():
            self.running_mean.copy_(running_average(self.running_mean, mean, self.momentum))
            self.running_var.copy_(running_average(self.running_var, var, self.momentum))
        return mean, var

    def log_scale_per_coordinate(self, var: torch.Tensor) -> torch.Tensor:
        r"""$\gamma_i - \tfrac12\log(v_i + \varepsilon) = \log(\partial u_i / \partial x_i)$, density direction."""
        return self.log_scale - 0.5 * torch.log(var + self.eps)

    def forward(self, u: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        check_points(u, self.dim, "u")
        log_scale = self.log_scale_per_coordinate(self.running_var)
        x = (u - self.shift) * torch.exp(-log_scale) + self.running_mean
        return x, (-log_scale.sum()).expand(u.shape[0])

    def inverse(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        check_points(x, self.dim, "x")
        mean, var = self.statistics(x)
        log_scale = self.log_scale_per_coordinate(var)
        u = (x - mean) * torch.exp(log_scale) + self.shift
        return u, log_scale.sum().expand(x.shape[0])


class ActNorm(ElementwiseAffine):
    r"""Glow's activation normalization: an `ElementwiseAffine` map that starts from the data.

    Math:      forward $x = u\,e^{\alpha} + \mu$, inverse $u = (x - \mu)\,e^{-\alpha}$, log-dets $\pm\sum_i \alpha_i$
    Start:     the first `inverse` call in training mode sets $\mu$ = the batch mean and $e^{\alpha}$ = the
               batch's standard deviation, so that batch leaves with mean 0 and variance 1 per coordinate;
               from then on $\mu$ and $\alpha$ are ordinary parameters: no batch statistics, the same map in
               training and eval mode. `initialized` (a buffer, saved with the model) records the start.
    """

    title = N_("activation normalization")

    def __init__(self, dim: int) -> None:
        super().__init__(dim)
        self.register_buffer("initialized", torch.tensor(False))

    @torch.no_grad()
    def initialize(self, x: torch.Tensor) -> None:
        """Set the shift and scale from the points `x` (batch, D), as the first training batch does."""
        check_points(x, self.dim, "x", finite=True)
        need_two_points(x, "ActNorm")
        self.mu.copy_(x.mean(dim=0))
        self.raw_alpha.copy_(soft_unclamp(0.5 * torch.log(x.var(dim=0, unbiased=False) + DEFAULT_EPS)))
        self.initialized.fill_(True)

    def inverse(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if self.training and not bool(self.initialized):
            self.initialize(x)
        return super().inverse(x)
