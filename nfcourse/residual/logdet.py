r"""Estimators of the log-det of a residual block, $\log\det(I + J_g(x))$, one number per sample.

Math:      $\mathrm{Lip}(g) < 1$ puts every eigenvalue $\lambda$ of $J = J_g(x)$ inside the unit disc, so
           $\det(I + J) > 0$ and $\log\det(I + J) = \operatorname{tr}\log(I + J)
           = \sum_{k \ge 1} \frac{(-1)^{k+1}}{k} \operatorname{tr}(J^k)$
Tools:     a vector-Jacobian product $w^\top J$ costs one backward pass through $g$, so $v^\top J^k v$ costs
           $k$ of them; Hutchinson: $\mathbb{E}[v^\top A v] = \operatorname{tr}(A)$ for $v \sim \mathcal{N}(0, I)$
Estimators: exact (D backward passes), truncated series with exact traces (biased by truncation),
           truncated series with Hutchinson traces (the i-ResNet training estimator), Russian roulette
           (unbiased: Residual Flows); `neumann.py` adds the memory-efficient gradient
Gradients: every estimator here keeps the graph of its products (create_graph) when autograd is on, so a
           loss built from it can be trained; memory then grows with the number of terms
Shapes:    x: (batch, D); every log-det: (batch,). $g$ must act on each sample separately.
Reference: Behrmann et al., Invertible Residual Networks, 2019, arXiv:1811.00995; Chen et al., Residual
           Flows for Invertible Generative Modeling, 2019, arXiv:1906.02735; Hutchinson, A stochastic
           estimator of the trace of the influence matrix for Laplacian smoothing splines, 1989
Lessons:   06, 07
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch

from nfcourse.residual.spectral import check_unit_interval
from nfcourse.validation import check_positive_int

Branch = Callable[[torch.Tensor], torch.Tensor]


def residual_branch(g: Branch, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """`x` ready for vector-Jacobian products (a leaf that requires grad, unless it has a graph already) and
    `g(x)` with its graph, even under `torch.no_grad()` (evaluation needs Jacobians too)."""
    if not x.requires_grad:
        x = x.detach().requires_grad_(True)
    with torch.enable_grad():
        return x, g(x)


def vector_jacobian_product(gx: torch.Tensor, x: torch.Tensor, w: torch.Tensor, create_graph: bool) -> torch.Tensor:
    r"""$w^\top J_g(x)$ for every sample, one backward pass. Shapes: gx, x, w: (batch, D)."""
    return torch.autograd.grad(gx, x, w, retain_graph=True, create_graph=create_graph)[0]


def gaussian_probe(x: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
    r"""$v \sim \mathcal{N}(0, I)$ of `x`'s shape, drawn on the generator's device, returned on `x`'s."""
    where = generator.device if generator is not None else x.device
    return torch.randn(x.shape, generator=generator, device=where, dtype=x.dtype).to(x.device)


def full_jacobian(gx: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """$J[b, i, :]$ = row $i$ of $J_g(x_b)$, from D vector-Jacobian products. Shape (batch, D, D)."""
    rows = []
    for i in range(x.shape[1]):
        unit = torch.zeros_like(x)
        unit[:, i] = 1
        rows.append(vector_jacobian_product(gx, x, unit, torch.is_grad_enabled()))
    return torch.stack(rows, dim=1)  # (B, D, D)


def exact_logdet(g: Branch, x: torch.Tensor) -> torch.Tensor:
    r"""$\log\det(I + J_g(x))$ from the full Jacobian: exact, and differentiable.

    Cost: D backward passes through $g$ and a $D \times D$ determinant per sample: for small D (the 2-D
    lessons), where it is the reference the estimators are measured against.
    """
    x, gx = residual_branch(g, x)
    J = full_jacobian(gx, x)
    return torch.linalg.slogdet(torch.eye(x.shape[1], dtype=x.dtype, device=x.device) + J).logabsdet


def log_series(terms: int) -> list[float]:
    r"""The coefficients $(-1)^{k+1} / k$, $k = 1..n$, of $\log(1 + z) = z - z^2/2 + z^3/3 - \dots$"""
    return [(-1) ** (k + 1) / k for k in range(1, check_positive_int(terms, "terms") + 1)]


def truncated_power_series_logdet(g: Branch, x: torch.Tensor, terms: int) -> torch.Tensor:
    r"""$\sum_{k=1}^{n} \frac{(-1)^{k+1}}{k} \operatorname{tr}(J^k)$ with exact traces: biased only by truncation.

    Error:  $|\log\det(I + J) - \text{series}| \le \sum_{k > n} \frac{|\operatorname{tr}(J^k)|}{k}
            \le D \sum_{k > n} \frac{L^k}{k} = -D\big(\log(1 - L) + \sum_{k \le n} \frac{L^k}{k}\big)$
            for $L = \mathrm{Lip}(g) < 1$ (since $|\operatorname{tr} A| \le D \|A\|_2$); large as $L \to 1$
    Cost:   the full Jacobian (D backward passes) and $n$ matrix products: a teaching reference
    """
    x, gx = residual_branch(g, x)
    J = full_jacobian(gx, x)
    power, total = J, x.new_zeros(x.shape[0])
    for coefficient in log_series(terms):
        total = total + coefficient * torch.diagonal(power, dim1=1, dim2=2).sum(dim=1)
        power = power @ J
    return total


def hutchinson_series(
    g: Branch, x: torch.Tensor, coefficients: Sequence[float], probes: int, generator: torch.Generator | None
) -> torch.Tensor:
    r"""$\frac1m \sum_{j=1}^{m} \sum_k a_k\, v_j^\top J^k v_j$, with $w^\top \leftarrow w^\top J$ built by
    vector-Jacobian products ($n$ per probe for $n$ coefficients) and kept differentiable."""
    check_positive_int(probes, "probes")
    create_graph = torch.is_grad_enabled()
    x, gx = residual_branch(g, x)
    total = x.new_zeros(x.shape[0])
    for _probe in range(probes):
        v = gaussian_probe(x, generator)
        w = v
        for coefficient in coefficients:
            w = vector_jacobian_product(gx, x, w, create_graph)  # w^T = v^T J^k
            total = total + coefficient * (w * v).sum(dim=1)
    return total / probes


def hutchinson_power_series_logdet(
    g: Branch, x: torch.Tensor, terms: int, probes: int = 1, generator: torch.Generator | None = None
) -> torch.Tensor:
    r"""The truncated series with Hutchinson traces, $\sum_{k=1}^{n} \frac{(-1)^{k+1}}{k} v^\top J^k v$,
    averaged over `probes` vectors $v \sim \mathcal{N}(0, I)$: the i-ResNet training estimator.

    Unbiased for the truncated series, biased for the log-det (see `truncated_power_series_logdet`);
    differentiable, so a loss built from it trains $g$ (memory grows with `terms`).
    """
    return hutchinson_series(g, x, log_series(terms), probes, generator)


def geometric_terms(p: float, exact_terms: int, generator: torch.Generator | None = None) -> int:
    r"""$N$ = `exact_terms` + a geometric number of extra terms: after each one, another with probability $1 - p$.

    So $P(N \ge k) = 1$ for $k \le$ `exact_terms` and $(1 - p)^{k - \text{exact\_terms}}$ beyond;
    $\mathbb{E}[N] =$ `exact_terms` $+ (1 - p) / p$.
    """
    check_unit_interval(p, "p")
    terms = check_positive_int(exact_terms, "exact_terms")
    where = generator.device if generator is not None else None
    while float(torch.rand((), generator=generator, device=where)) < 1 - p:
        terms += 1
    return terms


def survival_weights(n: int, p: float, exact_terms: int) -> torch.Tensor:
    r"""$1 / P(N \ge k)$ for $k = 1..n$: 1 up to `exact_terms`, then $(1 - p)^{-(k - \text{exact\_terms})}$.

    Shape (n,), float64.
    """
    check_unit_interval(p, "p")
    extra = (torch.arange(1, check_positive_int(n, "n") + 1, dtype=torch.float64) - exact_terms).clamp(min=0)
    return (1 - p) ** -extra


def russian_roulette_logdet(
    g: Branch,
    x: torch.Tensor,
    p: float = 0.5,
    exact_terms: int = 2,
    probes: int = 1,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    r"""An unbiased estimate of $\log\det(I + J)$: the series up to a random $N$, term $k$ weighted by $1 / P(N \ge k)$.

    Math:       $\sum_{k=1}^{N} \frac{(-1)^{k+1}}{k} \frac{v^\top J^k v}{P(N \ge k)}$, $N$ from `geometric_terms`
                (one $N$ for the whole batch), $v \sim \mathcal{N}(0, I)$ per probe
    Unbiased:   writing $a_k$ for the $k$-th term, $\mathbb{E}\big[\sum_{k \le N} a_k / P(N \ge k)\big]
                = \sum_{k \ge 1} P(N \ge k)\, a_k / P(N \ge k) = \sum_k a_k$ (the series converges
                absolutely for $L = \mathrm{Lip}(g) < 1$, so the sums may be swapped), and
                $\mathbb{E}[v^\top A v] = \operatorname{tr} A$
    Variance:   the weights grow like $(1 - p)^{-k}$ while the terms shrink like $L^k$: the variance is
                finite when $L^2 < 1 - p$; a smaller $p$ costs more terms and keeps it finite for $L$ near 1
    Gradients:  differentiable by plain backpropagation through all $N$ products ("naive backprop"): the
                memory grows with $N$; `russian_roulette_logdet_with_neumann_gradient` avoids that
    """
    n = geometric_terms(p, exact_terms, generator)
    weights = survival_weights(n, p, exact_terms).tolist()
    coefficients = [a * weight for a, weight in zip(log_series(n), weights, strict=True)]
    return hutchinson_series(g, x, coefficients, probes, generator)
