r"""The memory-efficient gradient of the log-det (Residual Flows): a Neumann series instead of backprop.

Backpropagating through a Russian roulette estimate keeps the graph of all its $N$ vector-Jacobian
products. The gradient has a formula of its own that needs only one product with a graph:

Math:      $\partial_\theta \log\det(I + J) = \operatorname{tr}\big((I + J)^{-1}\,\partial_\theta J\big)$
           (Jacobi's formula; $\theta$ is any parameter of $g$ or a coordinate of $x$), and
           $(I + J)^{-1} = \sum_{k \ge 0} (-J)^k$ (the Neumann series, convergent for $\|J\| < 1$)
Estimate:  with a probe $v \sim \mathcal{N}(0, I)$ and $N$ from `geometric_terms`,
           $w^\top = v^\top \sum_{k=0}^{N} \frac{(-J)^k}{P(N \ge k)}$ is an unbiased estimate of
           $v^\top (I + J)^{-1}$ (as in `russian_roulette_logdet`); it is computed without a graph and
           held constant, and the surrogate $s = w^\top J\, v$ is one product with a graph. Its gradient
           $\partial_\theta s = w^\top (\partial_\theta J)\, v$ has expectation
           $\operatorname{tr}\big((I + J)^{-1} \partial_\theta J\big)$: the gradient of the log-det
Memory:    autograd keeps $g$'s graph and one product's graph, whatever $N$ is
Value:     $s$ itself estimates $\operatorname{tr}\big((I + J)^{-1} J\big)$, which is not the log-det: it is a
           gradient surrogate, to be added to a loss, never to be reported
Reference: Chen et al., Residual Flows for Invertible Generative Modeling, 2019, arXiv:1906.02735 (section 3.2)
Lessons:   07
"""

from __future__ import annotations

import torch

from nfcourse.residual.logdet import (
    Branch,
    gaussian_probe,
    geometric_terms,
    residual_branch,
    survival_weights,
    vector_jacobian_product,
)


def roulette_series(
    gx: torch.Tensor, x: torch.Tensor, v: torch.Tensor, n: int, p: float, exact_terms: int
) -> tuple[torch.Tensor, torch.Tensor]:
    r"""From $w_k^\top = v^\top J^k$, $k = 1..n$ ($n$ products, no graph), two sums with weights $1 / P(N \ge k)$:

    the Russian roulette log-det estimate $\sum_{k=1}^{n} \frac{(-1)^{k+1}}{k} \frac{w_k \cdot v}{P(N \ge k)}$, shape
    (batch,), and the Neumann vector $\sum_{k=0}^{n} (-1)^k \frac{w_k}{P(N \ge k)}$ (with $w_0 = v$), shape (batch, D).
    Both are detached.
    """
    power, value, neumann = v, x.new_zeros(x.shape[0]), v
    for k, weight in enumerate(survival_weights(n, p, exact_terms).tolist(), start=1):
        power = vector_jacobian_product(gx, x, power, create_graph=False)  # v^T J^k
        value = value + (-1) ** (k + 1) / k * weight * (power * v).sum(dim=1)
        neumann = neumann + (-1) ** k * weight * power
    return value.detach(), neumann.detach()


def surrogate_and_estimate(
    g: Branch, x: torch.Tensor, p: float, exact_terms: int, generator: torch.Generator | None
) -> tuple[torch.Tensor, torch.Tensor]:
    r"""The surrogate $s = w^\top J v$ (with a graph) and the Russian roulette estimate (without), from one
    probe $v$ and one $N$. Shapes: (batch,) each."""
    n = geometric_terms(p, exact_terms, generator)  # N first, then v: the order of `russian_roulette_logdet`
    x, gx = residual_branch(g, x)
    v = gaussian_probe(x, generator)
    estimate, w = roulette_series(gx, x, v, n, p, exact_terms)
    surrogate = (vector_jacobian_product(gx, x, w, torch.is_grad_enabled()) * v).sum(dim=1)
    return surrogate, estimate


def neumann_gradient_surrogate(
    g: Branch, x: torch.Tensor, p: float = 0.5, exact_terms: int = 2, generator: torch.Generator | None = None
) -> torch.Tensor:
    r"""A gradient surrogate, NOT a log-det: its gradient (in $g$'s parameters and in $x$) is an unbiased estimate
    of the gradient of $\log\det(I + J_g(x))$, its value is not an estimate of the log-det.

    Math: $s = w^\top J_g(x)\, v$ with $w$ the detached Neumann vector (see the module's docstring). Shape (batch,).
    """
    return surrogate_and_estimate(g, x, p, exact_terms, generator)[0]


def russian_roulette_logdet_with_neumann_gradient(
    g: Branch, x: torch.Tensor, p: float = 0.5, exact_terms: int = 2, generator: torch.Generator | None = None
) -> torch.Tensor:
    r"""The Residual Flows training estimator: the value of `russian_roulette_logdet`, the gradient of
    `neumann_gradient_surrogate`.

    Math:    estimate.detach() + (s - s.detach()): the bracket is 0 in value and the first has no gradient,
             so the value is the unbiased Russian roulette estimate (computed without a graph, an honest
             log-det estimate that can be logged and compared) and the gradient is $\partial s$, unbiased
             for the gradient of the log-det
    Memory:  $g$'s graph and one vector-Jacobian product, independent of the number of terms $N$, where
             backprop through `russian_roulette_logdet` keeps all $N$ (compare with `saved_bytes`)
    Shapes:  x: (batch, D) -> (batch,)
    """
    surrogate, estimate = surrogate_and_estimate(g, x, p, exact_terms, generator)
    return estimate + (surrogate - surrogate.detach())  # value: exactly the estimate; gradient: the surrogate's
