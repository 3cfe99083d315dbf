"""The Neumann-series gradient: unbiased for the gradient of the log-det, not a log-det itself, flat in memory.

g is a `contractive_branch` (registry) with LipSwish (smooth, so the log-det's gradient in x exists everywhere),
in float64. Statistical claims: means of N draws within K standard errors, N and K stated per test.
"""

from __future__ import annotations

import math

import pytest
import torch
from registry import contractive_branch, shrinking_branch

from nfcourse.jacobian import jacobian
from nfcourse.residual import (
    exact_logdet,
    neumann_gradient_surrogate,
    russian_roulette_logdet,
    russian_roulette_logdet_with_neumann_gradient,
    saved_bytes,
)

K = 4.0  # standard errors


def points(n: int, dim: int, seed: int = 1) -> torch.Tensor:
    return torch.randn(n, dim, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def mean_and_standard_error(draws: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    return draws.mean(dim=0), draws.std(dim=0) / math.sqrt(len(draws))


def gradient(value: torch.Tensor, g: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    """d value.sum() / d (parameters of g, x), flattened; 0 for the last bias, which no Jacobian sees."""
    inputs = [*g.parameters(), x]
    grads = torch.autograd.grad(value.sum(), inputs, allow_unused=True, materialize_grads=True)
    return torch.cat([grad.reshape(-1) for grad in grads])


@pytest.mark.parametrize("branch", ["random", "shrinking"])
def test_surrogate_gradient_is_unbiased_for_the_gradient_of_the_logdet(branch: str) -> None:
    """N = 2000 draws, every component (the parameters of g and the 8 coordinates of x) within K = 4 standard errors
    of autograd through `exact_logdet`; components that no draw moves (the last bias) must agree exactly. The
    "shrinking" branch, J = -0.64 diag(0.9...1) so (I + J)^{-1} is about 2.5 I, needs the Neumann series' tail:
    cut to w = v - J^T v, or without the weights 1 / P(N >= k), this test fails by more than 9 standard errors.
    At these points the variance is finite with the default p = 0.5: it needs |J|^2 < 1 - p (asserted)."""
    if branch == "random":
        g = contractive_branch(2, 0.9, activation="lipswish")
    else:
        g = shrinking_branch(2, 0.8, activation="lipswish", shift=2.4)  # near LipSwish's steepest slope
    x, draws = points(4, 2).requires_grad_(True), 2000
    assert torch.linalg.matrix_norm(jacobian(g, x), ord=2).max() ** 2 < 1 - 0.5
    exact = gradient(exact_logdet(g, x), g, x)
    generator = torch.Generator().manual_seed(0)
    estimates = torch.stack(
        [gradient(neumann_gradient_surrogate(g, x, generator=generator), g, x) for _ in range(draws)]
    )
    mean, error = mean_and_standard_error(estimates)
    moving = error > 0
    assert moving.sum() == len(exact) - 2  # all but the last layer's bias (2 numbers)
    assert ((mean - exact).abs()[moving] <= K * error[moving]).all()
    assert torch.equal(mean[~moving], exact[~moving])


def test_surrogate_value_is_not_the_logdet_but_the_combined_estimator_is() -> None:
    """N = 4000 draws, K = 4, p = 0.25 (finite variance: (c^2)^2 = 0.66 < 1 - p). The surrogate's mean is
    tr((I + J)^{-1} J), not log det(I + J): with J = -0.81 I (`shrinking_branch`; per dimension -4.26 against
    -1.66) the two differ by far more than K standard errors. The combined estimator's value is the Russian
    roulette estimate, so its mean is the log-det."""
    g, x, draws = shrinking_branch(3, 0.9), points(3, 3), 4000
    exact = exact_logdet(g, x).detach()
    J = jacobian(g, x)
    identity = torch.eye(3, dtype=torch.float64)
    surrogate_target = torch.diagonal(torch.linalg.solve(identity + J, J), dim1=1, dim2=2).sum(dim=1)
    generator = torch.Generator().manual_seed(1)
    surrogates = torch.stack(
        [neumann_gradient_surrogate(g, x, p=0.25, generator=generator).detach() for _ in range(draws)]
    )
    mean, error = mean_and_standard_error(surrogates)
    assert ((mean - surrogate_target).abs() <= K * error).all()
    assert ((mean - exact).abs() > K * error).all()

    combined = torch.stack(
        [
            russian_roulette_logdet_with_neumann_gradient(g, x, p=0.25, generator=generator).detach()
            for _ in range(draws)
        ]
    )
    mean, error = mean_and_standard_error(combined)
    assert ((mean - exact).abs() <= K * error).all()


def test_combined_estimator_has_the_roulette_value_and_the_surrogate_gradient() -> None:
    """Deterministic: the same generator seed gives the same N and probe to all three functions."""
    g, x = contractive_branch(2, 0.8, activation="lipswish"), points(5, 2).requires_grad_(True)
    seeded = lambda: torch.Generator().manual_seed(7)  # noqa: E731
    combined = russian_roulette_logdet_with_neumann_gradient(g, x, generator=seeded())
    roulette = russian_roulette_logdet(g, x, generator=seeded())
    surrogate = neumann_gradient_surrogate(g, x, generator=seeded())
    torch.testing.assert_close(combined, roulette, atol=1e-14, rtol=0)
    torch.testing.assert_close(gradient(combined, g, x), gradient(surrogate, g, x), atol=0, rtol=0)
    assert not torch.allclose(surrogate, roulette, atol=1e-3)


def test_memory_for_backward_stays_flat_with_the_neumann_gradient_and_grows_with_naive_backprop() -> None:
    """p = 1 fixes N = exact_terms. The surrogate keeps g's graph and one product's: within 1.1x from 2 to 32 terms.
    Backprop through `russian_roulette_logdet` keeps every product's graph: each of the 30 extra terms adds at least
    90% of what the third term added."""
    g, x = contractive_branch(3, 0.9, activation="lipswish"), points(16, 3)
    g.train()  # as in training (the power-iteration step saves nothing for backward)

    def surrogate_bytes(terms: int) -> int:
        return saved_bytes(lambda: neumann_gradient_surrogate(g, x, p=1.0, exact_terms=terms))

    def roulette_bytes(terms: int) -> int:
        return saved_bytes(lambda: russian_roulette_logdet(g, x, p=1.0, exact_terms=terms))

    assert surrogate_bytes(2) > 0
    assert surrogate_bytes(32) <= 1.1 * surrogate_bytes(2)
    per_term = roulette_bytes(3) - roulette_bytes(2)
    assert per_term >= 16 * 3 * 8  # at least one (batch, D) float64 tensor per term
    assert roulette_bytes(32) - roulette_bytes(2) >= 0.9 * 30 * per_term
    assert roulette_bytes(32) > 5 * surrogate_bytes(32)
