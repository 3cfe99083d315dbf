"""Residual blocks: a loud fixed-point iteration that obeys Banach's bounds, the estimator of each mode, and the
i-ResNet and Residual Flow factories (exact in 2-D in eval mode, trainable). The round trip and the log-dets of
`ResidualBlock`, `iresnet` and `residual_flow` are in the contract test (registry)."""

from __future__ import annotations

import math

import pytest
import torch
from registry import contractive_branch, shrinking_branch

from nfcourse.bijectors import ActNorm, FixedPointError, ResidualBlock, iresnet, residual_flow, set_training_logdet
from nfcourse.datasets import load
from nfcourse.flow import Flow
from nfcourse.i18n import using_language
from nfcourse.jacobian import brute_force_logdet
from nfcourse.residual import (
    SpectralNormLinear,
    exact_logdet,
    fixed_point_inverse,
    hutchinson_power_series_logdet,
    russian_roulette_logdet,
    russian_roulette_logdet_with_neumann_gradient,
)
from nfcourse.training import evaluate_nll, fit


def points(n: int, dim: int, seed: int = 1) -> torch.Tensor:
    return 2 * torch.randn(n, dim, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def test_the_fixed_point_iteration_raises_at_its_cap_and_says_why() -> None:
    g, u = contractive_branch(2, 0.9), points(5, 2)
    with pytest.raises(FixedPointError) as caught:
        fixed_point_inverse(g, u, tolerance=1e-15, max_iterations=2)
    error = caught.value
    assert error.iterations == 2 and error.residual > 1e-15
    assert "within 2 iterations" in str(error) and f"{error.residual:.3g}" in str(error)
    assert "smaller Lipschitz coefficient" in str(error) and "max_iterations" in str(error)
    block = ResidualBlock(g, exact_logdet, tolerance=1e-15, max_iterations=2)
    with pytest.raises(FixedPointError, match="within 2 iterations"):
        block.forward(u)  # the bijector hands the error on: no unconverged sample
    with using_language("de"), pytest.raises(FixedPointError, match="Fixpunktiteration"):
        block.forward(u)


def test_iterations_grow_as_c_approaches_1() -> None:
    """The same raw network normalized to c = 0.5, 0.9, 0.99 needs more iterations each time."""
    u = points(20, 2)
    counts = [fixed_point_inverse(contractive_branch(2, c), u, 1e-10, 100_000)[1] for c in (0.5, 0.9, 0.99)]
    assert counts[0] < counts[1] < counts[2]


@pytest.mark.parametrize("c", [0.5, 0.9, 0.99])
def test_iterations_follow_the_contraction_rate(c: float) -> None:
    """With J_g = -c^2 I (`shrinking_branch`) every step shrinks by exactly q = c^2, so the step x_t - x_{t-1} is
    q^(t-1) (x_1 - x_0) and the iteration stops at the first t with q^(t-1) max|x_1 - x_0| <= tolerance:
    t = 1 + ceil(log(tolerance / max|x_1 - x_0|) / log q), which grows like 1 / (1 - c); +-1 for round-off."""
    g, u, tolerance = shrinking_branch(2, c), points(20, 2), 1e-10
    _, count = fixed_point_inverse(g, u, tolerance, 100_000)
    first_step = g(u).abs().max().item()
    predicted = 1 + math.ceil(math.log(tolerance / first_step) / math.log(c**2))
    assert abs(count - predicted) <= 1


@pytest.mark.parametrize("tolerance", [1e-2, 1e-4, 1e-6, 1e-8])
def test_fixed_point_error_obeys_banachs_bounds(tolerance: float) -> None:
    """With L = c >= Lip(g): |x_t - x*| <= L^t / (1 - L) |x_1 - x_0| (a priori) and <= L / (1 - L) |x_t - x_{t-1}|
    <= L / (1 - L) sqrt(D) tolerance (a posteriori), per sample in the Euclidean norm; x* from tolerance 1e-14,
    so 1e-12 of slack covers its own error and float64 round-off."""
    c, dim = 0.9, 3
    g, u = contractive_branch(dim, c), points(10, dim)
    x_star, _ = fixed_point_inverse(g, u, tolerance=1e-14, max_iterations=10_000)
    x_t, t = fixed_point_inverse(g, u, tolerance=tolerance, max_iterations=10_000)
    error = torch.linalg.vector_norm(x_t - x_star, dim=1)
    first_step = torch.linalg.vector_norm(g(u), dim=1)  # x_1 - x_0 = (u - g(u)) - u
    assert (error <= c**t / (1 - c) * first_step + 1e-12).all()
    assert (error <= c / (1 - c) * math.sqrt(dim) * tolerance + 1e-12).all()
    torch.testing.assert_close(x_star + g(x_star), u, atol=1e-13, rtol=0)


def recording(name: str, value: float, calls: list[str]):
    def logdet(g: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
        calls.append(name)
        return x.new_full((x.shape[0],), value)

    return logdet


def test_training_mode_uses_logdet_and_eval_mode_eval_logdet_in_both_directions() -> None:
    calls: list[str] = []
    g, x = contractive_branch(2, 0.9), points(4, 2)
    block = ResidualBlock(g, recording("train", 1.0, calls), recording("eval", 2.0, calls), tolerance=1e-12)
    block.eval()
    u, logdet = block.inverse(x)
    torch.testing.assert_close(u, x + g(x), atol=0, rtol=0)
    torch.testing.assert_close(logdet, torch.full((4,), 2.0, dtype=torch.float64))
    x_again, logdet = block.forward(u)
    torch.testing.assert_close(x_again, x, atol=1e-10, rtol=0)
    torch.testing.assert_close(logdet, torch.full((4,), -2.0, dtype=torch.float64))
    assert calls == ["eval", "eval"] and block.last_iterations > 1
    block.train()
    assert block.inverse(x)[1][0] == 1.0 and block.forward(u)[1][0] == -1.0
    assert calls == ["eval", "eval", "train", "train"]


def test_residual_flow_in_eval_mode_has_the_exact_log_prob_in_2d() -> None:
    """Against log N(f^{-1}(x)) + the brute-force log-det of the whole inverse, 1e-9 (float64 round-off); the same
    value on every call, so an estimate (random) and the surrogate (not a log-det) are both ruled out."""
    torch.manual_seed(0)
    flow = Flow(residual_flow(2).double(), 2).eval()
    x = points(6, 2)
    u, _ = flow.bijector.inverse(x)
    expected = flow.base.log_prob(u) + brute_force_logdet(flow.bijector.inverse, x)
    torch.testing.assert_close(flow.log_prob(x), expected, atol=1e-9, rtol=1e-9)
    with torch.no_grad():
        torch.testing.assert_close(flow.log_prob(x), expected, atol=1e-9, rtol=1e-9)
    flow.train()
    assert not torch.equal(flow.log_prob(x), flow.log_prob(x))  # training mode: a random estimate


def test_factories_choose_their_estimators_and_start_contractive() -> None:
    for block in iresnet(2, blocks=2):
        assert block.eval_logdet is exact_logdet and block.logdet.func is hutchinson_power_series_logdet
        assert block.logdet.keywords == {"terms": 5, "probes": 1}
    high = iresnet(9, blocks=1, terms=3, probes=2).layers[0].eval_logdet
    assert high.func is hutchinson_power_series_logdet and high.keywords == {"terms": 12, "probes": 8}
    flow = residual_flow(9, blocks=3, p=0.3, exact_terms=4)
    blocks = [layer for layer in flow if isinstance(layer, ResidualBlock)]
    assert [type(layer) for layer in flow] == [ResidualBlock, ActNorm, ResidualBlock, ActNorm, ResidualBlock]
    for block in blocks:
        assert block.logdet.func is russian_roulette_logdet_with_neumann_gradient
        assert block.eval_logdet.func is russian_roulette_logdet  # an estimate, never the surrogate
        assert block.logdet.keywords == block.eval_logdet.keywords == {"p": 0.3, "exact_terms": 4}
    for layer in flow.modules():  # converged at construction (relative change 1e-6), so c holds from the start
        if isinstance(layer, SpectralNormLinear):
            norm = torch.linalg.matrix_norm(layer.normalized_weight().double(), ord=2)
            assert norm <= layer.coefficient * (1 + 1e-3)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: iresnet(2, blocks=0), "blocks must be a positive whole number"),
        (lambda: residual_flow(2, activation="tanh"), "activation must be one of lipswish, elu, softplus, relu"),
        (lambda: iresnet(2, normalization="layer"), "normalization must be one of"),
        (lambda: residual_flow(2, coefficient=1.5), r"coefficient must lie in \(0, 1\]"),
        (lambda: residual_flow(2, p=0.0), r"p must lie in \(0, 1\]"),
        (lambda: ResidualBlock(lambda x: x, exact_logdet), "torch.nn.Module"),
        (lambda: ResidualBlock(torch.nn.Linear(2, 2), exact_logdet, tolerance=0.0), "tolerance must be positive"),
        (lambda: iresnet(2).forward(torch.zeros(3, 5)), "2 columns"),
        (lambda: iresnet(2).inverse(torch.zeros(3, 1)), "2 columns"),
    ],
)
def test_bad_settings_and_inputs_are_refused(make: object, message: str) -> None:
    with pytest.raises((ValueError, TypeError), match=message):
        make()  # type: ignore[operator]


def test_a_short_fit_of_a_residual_flow_lowers_the_test_nll_and_samples() -> None:
    """50 Adam steps on the moons (a few seconds): the training estimator's gradient moves the model the right way."""
    torch.manual_seed(0)
    moons = load("moons", n_train=2000, n_test=1000)
    flow = Flow(residual_flow(2, blocks=2, hidden_sizes=(16,)), 2)
    before = evaluate_nll(flow, moons.test)
    fit(flow, moons.train, steps=50, lr=5e-3, progress=False, device="cpu", seed=0)
    after = evaluate_nll(flow, moons.test)
    assert after.total < before.total - 0.1
    flow.eval()
    with torch.no_grad():
        x = flow.sample(300, generator=torch.Generator().manual_seed(1))
        assert torch.isfinite(flow.log_prob(x)).all()
    assert all(0 < block.last_iterations <= block.max_iterations for block in flow.bijector.layers[::2])


def test_set_training_logdet_reaches_every_block_and_only_the_training_log_det() -> None:
    flow = Flow(residual_flow(2, blocks=3, hidden_sizes=(8,)), dim=2)
    calls = []

    def counting_logdet(g, x: torch.Tensor) -> torch.Tensor:
        calls.append(len(x))
        return torch.zeros(len(x))

    blocks = set_training_logdet(flow, counting_logdet)
    assert len(blocks) == 3 and all(block.logdet is counting_logdet for block in blocks)
    flow.train().log_prob(torch.randn(5, 2))
    assert calls == [5, 5, 5]
    flow.eval().log_prob(torch.randn(5, 2))
    assert calls == [5, 5, 5]
