"""Log-det estimators of a residual block, in float64, against the brute-force Jacobian.

The exact one equals it; the truncated series errs by no more than its bound; Hutchinson's traces are unbiased
for the truncated series and Russian roulette for the log-det itself (means of N draws within k standard
errors), while a short truncation is visibly biased. g is a `contractive_branch` (registry): two layers at the
bound c, so Lip(g) <= c^2 <= c.
"""

from __future__ import annotations

import math

import pytest
import torch
from registry import contractive_branch, shrinking_branch
from torch.func import functional_call

from nfcourse.jacobian import brute_force_logdet, jacobian
from nfcourse.residual import (
    exact_logdet,
    gaussian_probe,
    geometric_terms,
    hutchinson_power_series_logdet,
    log_series,
    russian_roulette_logdet,
    survival_weights,
    truncated_power_series_logdet,
)

K = 4.0  # standard errors: a correct estimator lands further out once in ~16,000 comparisons


def points(n: int, dim: int, seed: int = 1) -> torch.Tensor:
    return torch.randn(n, dim, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def mean_and_standard_error(draws: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per column: the mean of the rows and its standard error, std / sqrt(N)."""
    return draws.mean(dim=0), draws.std(dim=0) / math.sqrt(len(draws))


def parameter_gradient(value: torch.Tensor, g: torch.nn.Module) -> torch.Tensor:
    """The gradient of value.sum() in all of g's parameters, flattened (0 where a parameter is not used)."""
    grads = torch.autograd.grad(value.sum(), list(g.parameters()), allow_unused=True, materialize_grads=True)
    return torch.cat([grad.reshape(-1) for grad in grads])


def series_tail_bound(dim: int, c: float, terms: int) -> float:
    """D sum_{k>n} c^k / k = -D (log(1 - c) + sum_{k<=n} c^k / k): the truncation error's bound for Lip(g) <= c."""
    return -dim * (math.log(1 - c) + sum(c**k / k for k in range(1, terms + 1)))


@pytest.mark.parametrize("dim", [2, 3, 4, 5])
@pytest.mark.parametrize("c", [0.5, 0.7, 0.9])
def test_exact_logdet_equals_the_brute_force_logdet(dim: int, c: float) -> None:
    g, x = contractive_branch(dim, c, seed=dim), points(6, dim)
    expected = brute_force_logdet(lambda z: z + g(z), x)
    torch.testing.assert_close(exact_logdet(g, x), expected, atol=1e-10, rtol=1e-10)
    with torch.no_grad():  # evaluation (evaluate_nll) runs without gradients, yet needs the Jacobian
        value = exact_logdet(g, x)
    assert value.grad_fn is None
    torch.testing.assert_close(value, expected, atol=1e-10, rtol=1e-10)


def test_exact_logdet_has_the_gradient_finite_differences_give() -> None:
    """torch.autograd.gradcheck (eps 1e-6, atol 1e-5, rtol 1e-3) in the parameters of g and in x; LipSwish is
    smooth, so the log-det, which holds first derivatives of g, is differentiable everywhere."""
    g = contractive_branch(2, 0.9, activation="lipswish")
    names = [name for name, _ in g.named_parameters()]

    def logdet(x: torch.Tensor, *parameters: torch.Tensor) -> torch.Tensor:
        branch = lambda z: functional_call(g, dict(zip(names, parameters, strict=True)), (z,))  # noqa: E731
        return exact_logdet(branch, x)

    x = points(3, 2).requires_grad_(True)
    parameters = [parameter.detach().clone().requires_grad_(True) for parameter in g.parameters()]
    assert torch.autograd.gradcheck(logdet, (x, *parameters))


@pytest.mark.parametrize("c", [0.5, 0.9])
def test_truncated_series_error_shrinks_within_its_bound(c: float) -> None:
    dim = 3
    g, x = contractive_branch(dim, c), points(8, dim)
    exact = exact_logdet(g, x).detach()
    errors = {n: (truncated_power_series_logdet(g, x, n).detach() - exact).abs().max().item() for n in range(1, 17)}
    for n, error in errors.items():
        assert error <= series_tail_bound(dim, c, n)
    assert errors[1] > errors[2] > errors[4] > errors[8] > errors[16]
    assert errors[16] < 1e-6 * errors[1]
    traces = torch.diagonal(jacobian(g, x), dim1=1, dim2=2).sum(dim=1)  # one term is tr(J)
    torch.testing.assert_close(truncated_power_series_logdet(g, x, 1), traces, atol=1e-12, rtol=1e-12)


@pytest.mark.parametrize("terms", [1, 2, 5])
def test_hutchinson_series_is_unbiased_for_the_truncated_series(terms: int) -> None:
    """N = 4000 independent estimates per point (the point repeated 4000 times in one call: each row draws its own
    probe), mean within K = 4 standard errors of the series with exact traces."""
    g, x, draws = contractive_branch(3, 0.9), points(3, 3), 4000
    estimates = hutchinson_power_series_logdet(g, x.repeat(draws, 1), terms, generator=torch.Generator().manual_seed(2))
    mean, error = mean_and_standard_error(estimates.detach().view(draws, 3))
    exact = truncated_power_series_logdet(g, x, terms).detach()
    assert ((mean - exact).abs() <= K * error).all()


def test_hutchinson_averages_its_probes_and_backpropagates_through_its_products() -> None:
    """Deterministic: `probes=2` is the mean of two one-probe estimates with the same draws; for a fixed probe v the
    value and the parameter gradient equal those of sum_k a_k v^T J^k v with J from autograd.functional.jacobian."""
    g, x = contractive_branch(2, 0.8, activation="lipswish"), points(4, 2)
    generator = torch.Generator().manual_seed(3)
    one, two = (hutchinson_power_series_logdet(g, x, 3, generator=generator) for _ in range(2))
    both = hutchinson_power_series_logdet(g, x, 3, probes=2, generator=torch.Generator().manual_seed(3))
    torch.testing.assert_close(both, (one + two) / 2, atol=1e-14, rtol=0)

    v = gaussian_probe(x, torch.Generator().manual_seed(4))
    J = torch.autograd.functional.jacobian(lambda z: g(z).sum(dim=0), x, create_graph=True).permute(1, 0, 2)
    expected, w = 0, v
    for coefficient in log_series(3):
        w = torch.einsum("bi,bij->bj", w, J)  # w^T = v^T J^k
        expected = expected + coefficient * (w * v).sum(dim=1)
    value = hutchinson_power_series_logdet(g, x, 3, generator=torch.Generator().manual_seed(4))
    torch.testing.assert_close(value, expected, atol=1e-13, rtol=0)
    torch.testing.assert_close(parameter_gradient(value, g), parameter_gradient(expected, g), atol=1e-12, rtol=0)


@pytest.mark.parametrize(("branch", "short"), [("random", 1), ("shrinking", 2)])
def test_russian_roulette_is_unbiased_where_a_short_truncation_is_not(branch: str, short: int) -> None:
    """N = 4000 calls (one N per call, so calls, not rows, are the independent draws), K = 4.
    p = 0.25 keeps the variance finite: Lip(g)^2 <= c^4 = 0.66 < 1 - p = 0.75. The "shrinking" branch shows that
    the weights 1 / P(N >= k) matter: without its random tail, the estimator is the 2-term series."""
    g = contractive_branch(3, 0.9) if branch == "random" else shrinking_branch(3, 0.9)
    x, draws = points(3, 3), 4000
    generator = torch.Generator().manual_seed(5)
    estimates = torch.stack([russian_roulette_logdet(g, x, p=0.25, generator=generator).detach() for _ in range(draws)])
    mean, error = mean_and_standard_error(estimates)
    exact = exact_logdet(g, x).detach()
    assert ((mean - exact).abs() <= K * error).all()
    short_bias = truncated_power_series_logdet(g, x, short).detach() - exact
    assert (short_bias.abs() > K * error).all()


def test_the_number_of_terms_is_geometric_and_the_weights_undo_its_survival() -> None:
    """20,000 draws of N: P(N >= k) = (1 - p)^(k - exact_terms) beyond exact_terms, within K = 4 binomial standard
    errors; N never falls below exact_terms."""
    p, exact_terms, draws = 0.4, 3, 20_000
    generator = torch.Generator().manual_seed(6)
    n = torch.tensor([geometric_terms(p, exact_terms, generator) for _ in range(draws)])
    assert n.min() == exact_terms
    for k in range(exact_terms + 1, exact_terms + 7):
        expected = (1 - p) ** (k - exact_terms)
        assert abs((n >= k).double().mean() - expected) <= K * math.sqrt(expected * (1 - expected) / draws)
    torch.testing.assert_close(
        survival_weights(5, 0.5, 2), torch.tensor([1.0, 1.0, 2.0, 4.0, 8.0], dtype=torch.float64)
    )
    assert all(geometric_terms(1.0, 4, generator) == 4 for _ in range(20))
    with pytest.raises(ValueError, match=r"p must lie in \(0, 1\]"):
        geometric_terms(0.0, 2)
    with pytest.raises(ValueError, match="exact_terms must be a positive whole number"):
        russian_roulette_logdet(g=lambda z: z / 2, x=points(2, 2), exact_terms=0)
