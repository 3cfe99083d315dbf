"""The bijector contract, checked for every bijector in the registry, in float64.

For random dimensions, batch sizes and inputs: each direction undoes the other, log-dets have
shape (batch,), and both log-dets equal log|det J| of a brute-force autograd Jacobian.
Tolerance: 1e-9, a million times float64's round-off (~1e-16) to allow for the few dozen
operations between input and output; an error in a log-det formula is of order 1e-2 or more.
"""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from registry import BIJECTORS

from nfcourse.jacobian import brute_force_logdet

TOL = 1e-9
cases = st.tuples(st.integers(1, 5), st.integers(1, 9), st.integers(0, 2**31 - 1))


def points(dim: int, batch: int, seed: int) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return 2.0 * torch.randn(batch, dim, generator=generator, dtype=torch.float64)


@pytest.mark.parametrize("name", BIJECTORS)
@settings(max_examples=15, deadline=None)
@given(case=cases)
def test_inverse_undoes_forward(name: str, case: tuple[int, int, int]) -> None:
    dim, batch, seed = case
    bijector, u = BIJECTORS[name](dim), points(dim, batch, seed)
    x, _ = bijector.forward(u)
    torch.testing.assert_close(bijector.inverse(x)[0], u, atol=TOL, rtol=TOL)


@pytest.mark.parametrize("name", BIJECTORS)
@settings(max_examples=15, deadline=None)
@given(case=cases)
def test_forward_undoes_inverse(name: str, case: tuple[int, int, int]) -> None:
    dim, batch, seed = case
    bijector, x = BIJECTORS[name](dim), points(dim, batch, seed)
    u, _ = bijector.inverse(x)
    torch.testing.assert_close(bijector.forward(u)[0], x, atol=TOL, rtol=TOL)


@pytest.mark.parametrize("name", BIJECTORS)
@settings(max_examples=10, deadline=None)
@given(case=cases)
def test_logdets_match_brute_force_jacobian(name: str, case: tuple[int, int, int]) -> None:
    dim, batch, seed = case
    bijector, u = BIJECTORS[name](dim), points(dim, batch, seed)
    x, forward_logdet = bijector.forward(u)
    _, inverse_logdet = bijector.inverse(x)
    assert forward_logdet.shape == (batch,) and inverse_logdet.shape == (batch,)
    torch.testing.assert_close(forward_logdet, brute_force_logdet(bijector.forward, u), atol=TOL, rtol=TOL)
    torch.testing.assert_close(inverse_logdet, brute_force_logdet(bijector.inverse, x), atol=TOL, rtol=TOL)
    torch.testing.assert_close(forward_logdet, -inverse_logdet, atol=TOL, rtol=TOL)


@pytest.mark.parametrize("name", BIJECTORS)
def test_invert_swaps_directions(name: str) -> None:
    from nfcourse.bijectors import Invert

    bijector, u = BIJECTORS[name](3), points(3, 4, seed=1)
    inverted = Invert(bijector)
    for got, expected in zip(inverted.inverse(u), bijector.forward(u), strict=True):
        torch.testing.assert_close(got, expected)
    for got, expected in zip(inverted.forward(u), bijector.inverse(u), strict=True):
        torch.testing.assert_close(got, expected)


def test_compose_adds_logdets_of_its_layers() -> None:
    bijector, u = BIJECTORS["Compose[part-1 flow]"](2), points(2, 6, seed=2)
    steps = bijector.forward_steps(u)
    parts = sum(layer.forward(before)[1] for layer, before in zip(bijector, steps[:-1], strict=True))
    x, logdet = bijector.forward(u)
    torch.testing.assert_close(logdet, parts)
    torch.testing.assert_close(steps[-1], x)
    assert len(steps) == len(bijector) + 1
