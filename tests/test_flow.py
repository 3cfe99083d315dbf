"""Flow = standard normal base + bijector: log_prob, sample and sample_and_log_prob agree."""

from __future__ import annotations

import math

import pytest
import torch
from registry import BIJECTORS, randomised

from nfcourse.bijectors import AffineLU, Compose, ElementwiseAffine, PReLU, reverse
from nfcourse.flow import Flow, StandardNormal


def test_standard_normal_log_prob_is_the_gaussian_formula() -> None:
    u = torch.tensor([[0.0, 0.0], [1.0, -2.0]], dtype=torch.float64)
    expected = torch.tensor([-math.log(2 * math.pi), -2.5 - math.log(2 * math.pi)], dtype=torch.float64)
    torch.testing.assert_close(StandardNormal(2).double().log_prob(u), expected)


@pytest.mark.parametrize("name", BIJECTORS)
def test_log_prob_is_base_density_plus_inverse_logdet(name: str) -> None:
    flow = Flow(BIJECTORS[name](3), dim=3)
    x = torch.randn(5, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    u, logdet = flow.bijector.inverse(x)
    torch.testing.assert_close(flow.log_prob(x), flow.base.log_prob(u) + logdet)


@pytest.mark.parametrize("name", BIJECTORS)
def test_sample_and_log_prob_agrees_with_log_prob_of_the_samples(name: str) -> None:
    flow = Flow(BIJECTORS[name](2), dim=2)
    x, log_p = flow.sample_and_log_prob(7, generator=torch.Generator().manual_seed(1))
    assert x.shape == (7, 2) and log_p.shape == (7,)
    torch.testing.assert_close(flow.log_prob(x), log_p, atol=1e-9, rtol=1e-9)


def test_same_generator_seed_gives_same_samples() -> None:
    flow = Flow(BIJECTORS["AffineLU"](2), dim=2)
    first = flow.sample(4, generator=torch.Generator().manual_seed(5))
    second = flow.sample(4, generator=torch.Generator().manual_seed(5))
    torch.testing.assert_close(first, second)


def test_samples_follow_the_flow_dtype() -> None:
    flow = Flow(BIJECTORS["AffineLU"](2), dim=2)  # the registry makes float64 bijectors
    assert flow.sample(3).dtype == torch.float64
    assert flow.float().sample(3).dtype == torch.float32


def test_density_of_a_one_dimensional_flow_integrates_to_one() -> None:
    """A numerical check of the change of variables: p(x) of a 1-D part-1 flow on a fine grid sums to 1.

    PReLU makes the density jump at its kinks, so the Riemann sum's error is of order
    (grid spacing) x (jump height) ~ 1e-4 here; the tail beyond 12 sample spreads holds < 1e-12.
    """
    layers = Compose(AffineLU(1), PReLU(1), AffineLU(1), PReLU(1), ElementwiseAffine(1))
    flow = Flow(randomised(layers, seed=4), dim=1)
    with torch.no_grad():
        spread = flow.sample(20_000, generator=torch.Generator().manual_seed(0)).abs().max().item()
        grid = torch.linspace(-12 * spread, 12 * spread, 400_001, dtype=torch.float64)[:, None]
        mass = (flow.log_prob(grid).exp().sum() * (grid[1, 0] - grid[0, 0])).item()
    assert mass == pytest.approx(1.0, abs=1e-4)


def test_density_of_a_two_dimensional_linear_flow_integrates_to_one() -> None:
    """The same in 2-D for a smooth (Gaussian) density, where the grid sum converges fast: tolerance 1e-6."""
    flow = Flow(randomised(Compose(AffineLU(2), reverse(2), ElementwiseAffine(2)), seed=4), dim=2)
    with torch.no_grad():
        spread = flow.sample(20_000, generator=torch.Generator().manual_seed(0)).abs().max().item()
        edges = torch.linspace(-3 * spread, 3 * spread, 1201, dtype=torch.float64)
        mass = (flow.log_prob(torch.cartesian_prod(edges, edges)).exp().sum() * (edges[1] - edges[0]) ** 2).item()
    assert mass == pytest.approx(1.0, abs=1e-6)
