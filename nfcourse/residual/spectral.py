r"""Spectral normalization: linear layers whose Lipschitz constant is at most $c$.

The Lipschitz constant of $x \mapsto Wx + b$ is the spectral norm $\sigma(W)$, the largest singular value.
Dividing $W$ by $\sigma(W)/c$ whenever $\sigma(W) > c$ bounds it by $c$. Computing $\sigma(W)$ exactly (an
SVD) every step is expensive; the power iteration estimates it from two vectors $u$, $v$ that are kept from
one call to the next, so during training one cheap step per call keeps the estimate close.

Math:      power iteration $v \leftarrow \frac{W^\top u}{\|W^\top u\|}$, $u \leftarrow \frac{W v}{\|W v\|}$;
           estimate $\hat\sigma = u^\top W v$; normalized weight $W / \max(1, \hat\sigma / c)$
Numerics:  $\hat\sigma = \|Wv\| \le \sigma(W)$: the estimate is never too large, so a layer whose estimate
           has not converged can exceed $c$ a little; `converge` (or `converge_spectral_norms` for a whole
           network) runs the iteration to a tolerance before the bound is relied on
Reference: Miyato et al., Spectral Normalization for Generative Adversarial Networks, 2018,
           arXiv:1802.05957; Behrmann et al., Invertible Residual Networks, 2019, arXiv:1811.00995
Lessons:   06, 07
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.functional import linear, normalize

from nfcourse.i18n import _
from nfcourse.validation import check_positive_int


class PowerIterationError(RuntimeError):
    """`converge` reached its cap before the estimate settled; `.iterations` and `.change` say how far it got."""

    def __init__(self, iterations: int, change: float) -> None:
        self.iterations, self.change = iterations, change
        super().__init__(
            _(
                "The power iteration did not converge within {iterations} iterations: the estimate of the "
                "spectral norm still changed by a relative {change:.3g} in the last one. Try a larger "
                "max_iterations or a looser tolerance."
            ).format(iterations=iterations, change=change)
        )


def check_unit_interval(value: float, name: str) -> float:
    """Check that `value` lies in (0, 1] (a Lipschitz coefficient, a probability) and return it."""
    if not 0 < value <= 1:
        raise ValueError(_("{name} must lie in (0, 1], got {value}.").format(name=name, value=value))
    return value


def power_iteration(
    weight: torch.Tensor, u: torch.Tensor, iterations: int
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    r"""`iterations` steps of the power iteration for the spectral norm of `weight`, started from `u`.

    Math:      $v \leftarrow W^\top u / \|W^\top u\|$, $u \leftarrow W v / \|W v\|$, then $\hat\sigma = u^\top W v$
    Returns:   $(\hat\sigma, u, v)$; $u$ and $v$ are constants (no gradient), $\hat\sigma$ has the gradient
               $u v^\top$ with respect to `weight`, the gradient of $\sigma(W)$ once $u$, $v$ have converged
    Converges: $u$ and $v$ approach the top singular vectors with an error that shrinks by the factor
               $(\sigma_2 / \sigma_1)^2$ per step (one multiplication by $W^\top W$), slowly when the two
               largest singular values are close; $\hat\sigma = \|Wv\|$ underestimates $\sigma_1$ until then
    Shapes:    weight: (out, in); u: (out,); v: (in,); sigma: ()
    """
    check_positive_int(iterations, "iterations")
    with torch.no_grad():
        for _step in range(iterations):
            v = normalize(weight.T @ u, dim=0)
            u = normalize(weight @ v, dim=0)
    return u @ weight @ v, u, v


class SpectralNormLinear(nn.Linear):
    r"""A linear layer whose weight is scaled down to spectral norm $c$ when its estimate exceeds $c$.

    Math:      $x \mapsto \bar W x + b$, $\bar W = W / \max(1, \hat\sigma / c)$, so $\mathrm{Lip} \le c$ once
               $\hat\sigma$ has converged; a weight whose estimate is at most $c$ is used unchanged
    Modes:     training: each call first takes `iterations` power-iteration steps, updating the buffers
               `u`, `v` (persistent: the weights move little per step, so the estimate stays close);
               eval: the stored vectors, no update, so the layer is one fixed map (inverting a residual
               block needs that)
    Shapes:    (batch, in_features) -> (batch, out_features)
    Lessons:   06, 07
    """

    def __init__(
        self, in_features: int, out_features: int, coefficient: float = 0.97, iterations: int = 1, seed: int = 0
    ) -> None:
        check_positive_int(in_features, "in_features")
        check_positive_int(out_features, "out_features")
        super().__init__(in_features, out_features)
        self.coefficient = check_unit_interval(coefficient, "coefficient")
        self.iterations = check_positive_int(iterations, "iterations")
        generator = torch.Generator().manual_seed(seed)
        self.register_buffer("u", normalize(torch.randn(out_features, generator=generator), dim=0))
        self.register_buffer("v", normalize(torch.randn(in_features, generator=generator), dim=0))

    def estimate(self) -> torch.Tensor:
        r"""$\hat\sigma = u^\top W v$ from the stored vectors, differentiable in $W$ (no power-iteration step)."""
        return self.u.clone() @ self.weight @ self.v.clone()  # clones: a later update must not touch this graph

    def step(self, iterations: int) -> torch.Tensor:
        r"""`iterations` power-iteration steps from the stored $u$, kept in the buffers; returns $\hat\sigma$."""
        with torch.no_grad():
            sigma, u, v = power_iteration(self.weight, self.u, iterations)
            self.u.copy_(u)
            self.v.copy_(v)
        return sigma

    def normalized_weight(self) -> torch.Tensor:
        r"""$\bar W = W / \max(1, \hat\sigma / c)$, after `iterations` power-iteration steps in training mode."""
        if self.training:
            self.step(self.iterations)
        return self.weight / torch.clamp(self.estimate() / self.coefficient, min=1.0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return linear(x, self.normalized_weight(), self.bias)

    def spectral_norm_estimate(self) -> float:
        r"""The current $\hat\sigma$ of the raw weight $W$, from the stored vectors (no step is taken)."""
        with torch.no_grad():
            return float(self.estimate())

    def converge(self, tolerance: float = 1e-6, max_iterations: int = 10_000) -> int:
        r"""Power-iterate until $\hat\sigma$ changes by at most `tolerance` relative to itself; return the steps.

        Works in either mode and updates the buffers; raises `PowerIterationError` at `max_iterations`.
        """
        check_positive_int(max_iterations, "max_iterations")
        sigma = self.spectral_norm_estimate()
        for iterations in range(1, max_iterations + 1):
            previous, sigma = sigma, float(self.step(1))
            change = abs(sigma - previous) / max(abs(sigma), torch.finfo(self.weight.dtype).tiny)
            if change <= tolerance:
                return iterations
        raise PowerIterationError(max_iterations, change)


def converge_spectral_norms(module: nn.Module, tolerance: float = 1e-6, max_iterations: int = 10_000) -> int:
    """`converge` every `SpectralNormLinear` inside `module`; return the largest number of steps any took.

    Call it before relying on the bound $c$: after building a network, after changing weights by hand, and
    before evaluating or sampling a trained model.
    """
    layers = [layer for layer in module.modules() if isinstance(layer, SpectralNormLinear)]
    return max((layer.converge(tolerance, max_iterations) for layer in layers), default=0)
