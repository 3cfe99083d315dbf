"""LipSwish is 1-Lipschitz for every slope beta, nearly tight, and beta stays positive (float64)."""

from __future__ import annotations

import math

import pytest
import torch

from nfcourse.residual import LipSwish

BETAS = torch.logspace(-2, 2, 25, dtype=torch.float64).tolist()  # 0.01 ... 100


def with_beta(beta: float) -> LipSwish:
    activation = LipSwish().double()
    with torch.no_grad():
        activation.raw_beta.fill_(math.log(math.expm1(beta)))  # softplus^{-1}(beta)
    return activation


def slopes(activation: LipSwish, beta: float) -> torch.Tensor:
    """f'(x) by autograd on 200,001 points of [-50, 50] / beta, i.e. beta x on a grid of step 5e-4 in [-50, 50]."""
    x = (torch.linspace(-50, 50, 200_001, dtype=torch.float64) / beta).requires_grad_(True)
    (slope,) = torch.autograd.grad(activation(x).sum(), x)
    return slope


@pytest.mark.parametrize("beta", BETAS)
def test_lipswish_is_1_lipschitz_and_nearly_tight_for_every_beta(beta: float) -> None:
    """max f' = 1.09984/1.1 = 0.99985 and min f' = -0.09984/1.1 whatever beta is (the grid reaches both within
    (5e-4)^2, far below the margins asserted)."""
    activation = with_beta(beta)
    torch.testing.assert_close(activation.beta, torch.tensor(beta, dtype=torch.float64))
    slope = slopes(activation, beta)
    assert slope.abs().max() <= 1.0
    assert slope.max() > 0.99  # dividing by 1.1 wastes less than 1% of the allowed slope
    assert -0.0908 < slope.min() < -0.0907  # the negative dip of Swish, also independent of beta


def test_lipswish_starts_at_beta_1_and_beta_stays_positive() -> None:
    activation = LipSwish().double()
    torch.testing.assert_close(activation.beta, torch.tensor(1.0, dtype=torch.float64))
    x = torch.linspace(-3, 3, 7, dtype=torch.float64)
    torch.testing.assert_close(activation(x), x * torch.sigmoid(x) / 1.1)
    for raw in torch.linspace(-30, 100, 131, dtype=torch.float64):
        with torch.no_grad():
            activation.raw_beta.fill_(raw)
        assert activation.beta > 0
    assert isinstance(activation.raw_beta, torch.nn.Parameter)
