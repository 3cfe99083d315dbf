"""Spectral normalization: the power iteration finds sigma_max, a converged layer is at most c-Lipschitz, and so is
a whole `lipschitz_mlp`, checked against `torch.linalg.matrix_norm(ord=2)` and the brute-force Jacobian (float64)."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from nfcourse.jacobian import jacobian
from nfcourse.residual import (
    ACTIVATIONS,
    PowerIterationError,
    SpectralNormLinear,
    converge_spectral_norms,
    lipschitz_mlp,
    power_iteration,
)

ROUND_OFF = 1e-6  # relative slack on c: the estimate converged to 1e-10 relative change, far inside 1e-6


def random_matrix(rows: int, columns: int, seed: int) -> torch.Tensor:
    return torch.randn(rows, columns, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def layer_with_norm(in_features: int, out_features: int, c: float, scale: float, seed: int) -> SpectralNormLinear:
    """A float64 layer whose raw weight has spectral norm `scale` (above c when scale > c)."""
    layer = SpectralNormLinear(in_features, out_features, coefficient=c, seed=seed).double()
    with torch.no_grad():
        weight = random_matrix(out_features, in_features, seed + 1)
        layer.weight.copy_(scale * weight / torch.linalg.matrix_norm(weight, ord=2))
    return layer


@pytest.mark.parametrize("shape", [(1, 1), (3, 5), (7, 2), (16, 16), (40, 9)])
def test_power_iteration_finds_the_largest_singular_value(shape: tuple[int, int]) -> None:
    """After t steps the error is about (sigma2/sigma1)^(2t); with sigma2/sigma1 < 0.99 (asserted) and t = 3000
    that is below e^-60, so a relative error of 1e-8 is float64 round-off, not convergence."""
    weight = random_matrix(*shape, seed=sum(shape))
    singular_values = torch.linalg.svdvals(weight)
    assert len(singular_values) == 1 or singular_values[1] / singular_values[0] < 0.99
    u = torch.randn(shape[0], generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    sigma, u, v = power_iteration(weight, u, iterations=3000)
    true = torch.linalg.matrix_norm(weight, ord=2)
    assert abs(sigma - true) / true < 1e-8
    torch.testing.assert_close(torch.linalg.vector_norm(u), torch.tensor(1.0, dtype=torch.float64))
    torch.testing.assert_close(torch.linalg.vector_norm(v), torch.tensor(1.0, dtype=torch.float64))


def test_power_iteration_underestimates_and_its_gradient_is_u_v_transposed() -> None:
    for seed in range(20):
        weight = random_matrix(6, 4, seed).requires_grad_(True)
        start = torch.randn(6, generator=torch.Generator().manual_seed(100 + seed), dtype=torch.float64)
        sigma, u, v = power_iteration(weight, start, iterations=1)
        assert sigma <= torch.linalg.matrix_norm(weight.detach(), ord=2)  # sigma_hat = |W v| <= sigma_max
        (gradient,) = torch.autograd.grad(sigma, weight)
        torch.testing.assert_close(gradient, torch.outer(u, v), atol=1e-15, rtol=0)  # u, v held constant


def test_converged_sigma_has_the_gradient_of_the_spectral_norm() -> None:
    weight = random_matrix(5, 8, seed=3).requires_grad_(True)
    sigma, _, _ = power_iteration(weight, torch.ones(5, dtype=torch.float64), iterations=2000)
    (expected,) = torch.autograd.grad(torch.linalg.matrix_norm(weight, ord=2), weight)
    torch.testing.assert_close(torch.autograd.grad(sigma, weight)[0], expected, atol=1e-10, rtol=1e-10)


@settings(max_examples=40, deadline=None)
@given(
    in_features=st.integers(1, 20),
    out_features=st.integers(1, 20),
    c=st.floats(0.3, 1.0),
    scale=st.floats(1.0, 1000.0),
    seed=st.integers(0, 2**20),
)
def test_a_converged_layer_is_scaled_exactly_to_c(
    in_features: int, out_features: int, c: float, scale: float, seed: int
) -> None:
    """Raw norms from c to 1000c: after converge(1e-10) the true norm of the used weight is c, within 1e-6."""
    layer = layer_with_norm(in_features, out_features, c, scale * c, seed)
    layer.converge(tolerance=1e-10)
    norm = torch.linalg.matrix_norm(layer.normalized_weight(), ord=2).item()
    assert c * (1 - ROUND_OFF) <= norm <= c * (1 + ROUND_OFF)


@pytest.mark.parametrize("mode", ["train", "eval"])
def test_a_weight_already_below_c_is_used_unchanged(mode: str) -> None:
    layer = layer_with_norm(6, 3, c=0.9, scale=0.5, seed=4).train(mode == "train")
    layer.converge(tolerance=1e-10)
    assert torch.equal(layer.normalized_weight(), layer.weight)


def test_eval_mode_keeps_the_vectors_and_training_mode_updates_them() -> None:
    layer = layer_with_norm(5, 7, c=0.9, scale=3.0, seed=5)
    x = torch.randn(4, 5, dtype=torch.float64)
    before = (layer.u.clone(), layer.v.clone())
    layer.eval()
    first = layer(x)
    for _ in range(3):
        torch.testing.assert_close(layer(x), first, atol=0, rtol=0)  # one fixed map
    assert torch.equal(layer.u, before[0]) and torch.equal(layer.v, before[1])
    layer.train()
    layer(x)
    assert not torch.equal(layer.u, before[0]) and not torch.equal(layer.v, before[1])


def test_bad_coefficients_are_refused_and_an_unconverged_iteration_is_loud() -> None:
    for c in (0.0, -0.5, 1.01, float("nan")):
        with pytest.raises(ValueError, match=r"coefficient must lie in \(0, 1\]"):
            SpectralNormLinear(3, 3, coefficient=c)
    SpectralNormLinear(3, 3, coefficient=1.0)
    layer = layer_with_norm(30, 30, c=0.9, scale=5.0, seed=6)
    with pytest.raises(PowerIterationError, match="within 2 iterations") as caught:
        layer.converge(tolerance=1e-15, max_iterations=2)
    assert caught.value.iterations == 2 and caught.value.change > 1e-15


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
@pytest.mark.parametrize("c", [0.5, 0.9, 0.97])
def test_lipschitz_mlp_has_jacobians_with_spectral_norm_at_most_c(activation: str, c: float) -> None:
    """With L linear layers the bound is c^L <= c; checked at 200 points spread over [-12, 12]^3."""
    torch.manual_seed(7)
    g = lipschitz_mlp(3, (16, 16), coefficient=c, activation=activation).double()
    with torch.no_grad():  # weights far from contractive before normalization
        for layer in g.modules():
            if isinstance(layer, SpectralNormLinear):
                layer.weight.mul_(10.0)
    converge_spectral_norms(g, tolerance=1e-10)
    g.eval()
    points = 4 * torch.randn(200, 3, generator=torch.Generator().manual_seed(8), dtype=torch.float64)
    norms = torch.linalg.matrix_norm(jacobian(g, points), ord=2)
    assert norms.max() <= c**3 * (1 + ROUND_OFF)
    assert norms.max() > 0.05 * c**3  # the bound is not met by a network that does nothing


def test_lipschitz_mlp_is_a_spectral_network_and_refuses_unknown_activations() -> None:
    g = lipschitz_mlp(4, (8, 6), coefficient=0.8, activation="elu")
    linears = [layer for layer in g if isinstance(layer, SpectralNormLinear)]
    assert [(layer.in_features, layer.out_features) for layer in linears] == [(4, 8), (8, 6), (6, 4)]
    assert all(layer.coefficient == 0.8 for layer in linears) and len(g) == 5
    with pytest.raises(ValueError, match="activation must be one of lipswish, elu, softplus, relu"):
        lipschitz_mlp(2, (8,), activation="tanh")
