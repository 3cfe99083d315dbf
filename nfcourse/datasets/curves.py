r"""Noisy curves: points on parametric curves, blurred by Gaussian noise. Moons, spirals and rings.

A point is made in three steps: pick curve $k$ with probability $w_k$, pick the curve parameter
$t \sim \mathcal{U}[0, 1]$, add isotropic noise: $y = c_k(t) + \sigma \varepsilon$,
$\varepsilon \sim \mathcal{N}(0, I_2)$. Its density is an integral over the parameter,

Math:      $p(y) = \sum_k w_k \int_0^1 \mathcal{N}(y;\, c_k(t),\, \sigma^2 I_2)\, dt$,
           computed by composite Gauss-Legendre quadrature: $t \in [0, 1]$ is cut into panels, each
           with 8 nodes $t_j$ and weights $\omega_j$ ($\sum_j \omega_j = 1$ per curve), and
           $\log p(y) = \operatorname{logsumexp}_{k,j}\big(\log w_k + \log\omega_j
           - \|y - c_k(t_j)\|^2 / 2\sigma^2\big) - \log(2\pi\sigma^2)$
Numerics:  the panels start short enough that each covers at most $2\sigma$ of arc length, so the
           integrand, a Gaussian bump of width $\sigma$ along the curve, is smooth on a panel's scale.
           Then the rule checks itself: while doubling the panels changes $\log p$ by more than
           `QUADRATURE_TOLERANCE` (1e-11) at probe points (on the curves and $\sigma$ off them), the
           panels are doubled, at most `MAX_DOUBLINGS` times, else a RuntimeError says so. At the data
           the error is then ~1e-12 (tested: below 1e-10). Far from the curves (tens of $\sigma$) the
           bump narrows and the error grows, where the density is below $e^{-100}$ anyway.
           The moments used for standardization come from the same nodes:
           $E[y] = \sum w_k \omega_j c_k(t_j)$, $E[y_i^2] = \sum w_k \omega_j c_{k,i}(t_j)^2 + \sigma^2$.
Lessons:   00 onwards (moons is the first data set of the course)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
import torch

from nfcourse.datasets.base import RawDistribution, check_noise, row_chunks
from nfcourse.i18n import _

Curve = Callable[[torch.Tensor], torch.Tensor]  # t: (n,) in [0, 1] -> points: (n, 2)

NODES_PER_PANEL = 8
QUADRATURE_TOLERANCE = 1e-11
MAX_DOUBLINGS = 6


class NoisyCurves(RawDistribution):
    r"""A mixture of noisy curves: curve $k$ with probability $w_k$, $t \sim \mathcal{U}[0,1]$, noise $\sigma$.

    `curves` map a float64 tensor of parameters $t$, shape (n,), to points, shape (n, 2); they must be
    smooth in $t$. `weights` need not be normalized. `refinement` multiplies the number of panels of the
    quadrature (only the tests change it, to measure the quadrature error).
    Attributes: `nodes` $c_k(t_j)$, shape (N, 2), `log_weights` $\log w_k + \log\omega_j$, shape (N,), and
    `node_curve`, the curve $k$ of each node, shape (N,).
    """

    def __init__(self, curves: Sequence[Curve], weights: Sequence[float], noise: float, refinement: int = 1) -> None:
        self.curves = list(curves)
        w = torch.tensor(weights, dtype=torch.float64)
        self.weights = w / w.sum()
        self.noise = check_noise(noise)
        panels = [_panel_count(curve, self.noise) * refinement for curve in self.curves]
        t = torch.linspace(0, 1, 65, dtype=torch.float64)
        offsets = self.noise * torch.tensor([[0, 0], [1, 0], [-1, 0], [0, 1], [0, -1]], dtype=torch.float64)
        probes = torch.cat([(curve(t)[:, None] + offsets).reshape(-1, 2) for curve in self.curves])  # (K*65*5, 2)
        for _doubling in range(MAX_DOUBLINGS + 1):
            self.nodes, self.log_weights, self.node_curve = self._quadrature(panels)
            finer = self._quadrature([2 * count for count in panels])[:2]
            change = float((_log_density(probes, *finer, self.noise) - self.log_prob(probes)).abs().max())
            if change < QUADRATURE_TOLERANCE:
                break
            panels = [2 * count for count in panels]
        else:
            raise RuntimeError(
                _(
                    "The quadrature of the noisy curves did not converge: doubling {panels} panels still changes "
                    "log p by {change:.1e} (tolerance {tolerance:.0e}). Is the noise very small?"
                ).format(panels=sum(panels), change=change, tolerance=QUADRATURE_TOLERANCE)
            )

    def _quadrature(self, panels: list[int]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        r"""Nodes $c_k(t_j)$, (N, 2), log-weights $\log w_k + \log\omega_j$, (N,), and each node's curve, (N,)."""
        nodes, log_weights, node_curve = [], [], []
        for k, (curve, weight, count) in enumerate(zip(self.curves, self.weights, panels, strict=True)):
            t, omega = _panel_nodes(count)
            nodes.append(curve(t))
            log_weights.append(weight.log() + omega.log())
            node_curve.append(torch.full((len(t),), k))
        return torch.cat(nodes), torch.cat(log_weights), torch.cat(node_curve)

    def sample(self, n: int, generator: torch.Generator) -> torch.Tensor:
        k = torch.multinomial(self.weights, n, replacement=True, generator=generator)  # which curve: (n,)
        t = torch.rand(n, generator=generator, dtype=torch.float64)
        on_curve = torch.stack([curve(t) for curve in self.curves])  # every curve at every t: (K, n, 2)
        y = on_curve[k, torch.arange(n)]  # (n, 2)
        return y + self.noise * torch.randn(n, 2, generator=generator, dtype=torch.float64)

    def log_prob(self, y: torch.Tensor) -> torch.Tensor:
        return _log_density(y, self.nodes, self.log_weights, self.noise)

    def curve_probabilities(self, y: torch.Tensor) -> torch.Tensor:
        r"""$P(k \mid y) = w_k\, p_k(y) / \sum_l w_l\, p_l(y)$: how likely each point came from curve $k$.

        $p_k$ is the density of curve $k$ alone (its quadrature nodes). Shape (batch, K); rows sum to 1.
        """
        joint = [
            _log_density(y, self.nodes[self.node_curve == k], self.log_weights[self.node_curve == k], self.noise)
            for k in range(len(self.curves))
        ]  # K tensors (batch,): log w_k p_k(y)
        return torch.stack(joint, dim=1).softmax(dim=1)

    def moments(self) -> tuple[torch.Tensor, torch.Tensor]:
        weights = self.log_weights.exp()[:, None]  # (N, 1)
        mean = (weights * self.nodes).sum(dim=0)
        second = (weights * self.nodes**2).sum(dim=0) + self.noise**2
        return mean, second - mean**2


def _log_density(y: torch.Tensor, nodes: torch.Tensor, log_weights: torch.Tensor, noise: float) -> torch.Tensor:
    r"""$\operatorname{logsumexp}_j(\log W_j - \|y - c_j\|^2 / 2\sigma^2) - \log(2\pi\sigma^2)$, shape (batch,).

    Expanding $\|y - c\|^2 = \|y\|^2 - 2 y \cdot c + \|c\|^2$ makes the exponents one matrix product plus a
    bias per node and a term per point; in float64 their rounding error is ~1e-13.
    """
    scale = 1 / noise**2
    nodes = nodes.to(y)
    bias = log_weights.to(y) - 0.5 * scale * (nodes**2).sum(dim=1)  # log W - |c|^2 / 2 sigma^2: (N,)
    log_norm = math.log(2 * math.pi * noise**2)
    parts = []
    for block in row_chunks(y, len(nodes)):
        exponents = torch.addmm(bias, block, nodes.T, alpha=scale)  # (B, N)
        point_term = 0.5 * scale * (block**2).sum(dim=1) + log_norm  # |y|^2 / 2 sigma^2 + log(2 pi sigma^2)
        parts.append(torch.logsumexp(exponents, dim=1) - point_term)
    return torch.cat(parts)


def _panel_count(curve: Curve, noise: float) -> int:
    r"""Panels on $[0, 1]$ so that each spans at most $2\sigma$ of arc length: $\lceil \max_t |c'(t)| / 2\sigma \rceil$.

    The speed $|c'(t)|$ is measured by finite differences on 4096 steps, with a 10% margin.
    """
    t = torch.linspace(0, 1, 4097, dtype=torch.float64)
    max_speed = float((curve(t).diff(dim=0).norm(dim=1) * 4096).max())
    return max(8, math.ceil(1.1 * max_speed / (2 * noise)))


def _panel_nodes(panels: int) -> tuple[torch.Tensor, torch.Tensor]:
    r"""Gauss-Legendre nodes and weights on $[0, 1]$ cut into `panels` equal panels; the weights sum to 1."""
    x, w = np.polynomial.legendre.leggauss(NODES_PER_PANEL)  # on [-1, 1], weights sum to 2
    left = torch.arange(panels, dtype=torch.float64)[:, None] / panels  # (panels, 1)
    t = left + (torch.from_numpy(x)[None] + 1) / (2 * panels)  # (panels, nodes)
    omega = torch.from_numpy(w)[None].expand(panels, -1) / (2 * panels)
    return t.reshape(-1), omega.reshape(-1)


def moons(noise: float = 0.1) -> NoisyCurves:
    r"""Two interleaved half circles of radius 1, each with probability 1/2.

    Math:  upper $c_1(t) = (\cos \pi t, \sin \pi t)$; lower $c_2(t) = (1 - \cos \pi t,\ \tfrac12 - \sin \pi t)$
    """

    def upper(t: torch.Tensor) -> torch.Tensor:
        return torch.stack([torch.cos(math.pi * t), torch.sin(math.pi * t)], dim=1)

    def lower(t: torch.Tensor) -> torch.Tensor:
        return torch.stack([1 - torch.cos(math.pi * t), 0.5 - torch.sin(math.pi * t)], dim=1)

    return NoisyCurves([upper, lower], [1.0, 1.0], noise)


def spirals(noise: float = 0.1) -> NoisyCurves:
    r"""Two interleaved Archimedean spirals $r = \theta / \pi$, the second one the first turned by $\pi$.

    Math:  $c_1(t) = \frac{\theta}{\pi}(\cos\theta, \sin\theta)$, $c_2 = -c_1$, with
           $\theta(t) = \sqrt{\theta_0^2 + t(\theta_1^2 - \theta_0^2)}$, $\theta_0 = \pi/4$, $\theta_1 = 3\pi$
           (one and a half turns).
           The square root makes the points nearly evenly spread along the arc (arc length grows like
           $\theta^2$); the arms are 1 apart, 10 noise widths for the default noise.
    """
    start, end = math.pi / 4, 3 * math.pi

    def arm(t: torch.Tensor) -> torch.Tensor:
        theta = torch.sqrt(start**2 + t * (end**2 - start**2))
        return (theta / math.pi)[:, None] * torch.stack([torch.cos(theta), torch.sin(theta)], dim=1)

    def other_arm(t: torch.Tensor) -> torch.Tensor:
        return -arm(t)

    return NoisyCurves([arm, other_arm], [1.0, 1.0], noise)


def rings(noise: float = 0.1) -> NoisyCurves:
    r"""Three concentric circles $c_k(t) = R_k(\cos 2\pi t, \sin 2\pi t)$, $R_k = 1, 2, 3$, weights $w_k \propto R_k$.

    Weights proportional to the circumference spread the points evenly along all rings together.
    """

    def circle(radius: float) -> Curve:
        def ring(t: torch.Tensor) -> torch.Tensor:
            return radius * torch.stack([torch.cos(2 * math.pi * t), torch.sin(2 * math.pi * t)], dim=1)

        return ring

    radii = (1.0, 2.0, 3.0)
    return NoisyCurves([circle(r) for r in radii], list(radii), noise)
