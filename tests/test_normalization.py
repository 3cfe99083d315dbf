"""BatchNorm and ActNorm: the log-det of the map actually applied in training mode, running averages, starts."""

from __future__ import annotations

import pytest
import torch
from registry import randomised

from nfcourse.bijectors import ActNorm, BatchNorm, running_average
from nfcourse.jacobian import brute_force_logdet


def points(n: int, dim: int, seed: int = 0) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return 3 * torch.randn(n, dim, generator=generator, dtype=torch.float64) + 1


def test_training_logdet_is_that_of_the_map_applied_with_the_batch_statistics() -> None:
    layer = randomised(BatchNorm(3)).train()
    x = points(40, 3)
    u, logdet = layer.inverse(x)
    mean, var = x.mean(dim=0), x.var(dim=0, unbiased=False)

    def applied(y: torch.Tensor) -> torch.Tensor:
        return (y - mean) / torch.sqrt(var + layer.eps) * torch.exp(layer.log_scale) + layer.shift

    torch.testing.assert_close(u, applied(x))
    torch.testing.assert_close(logdet, brute_force_logdet(applied, x), atol=1e-10, rtol=1e-10)
    eval_logdet = layer.eval().inverse(x)[1]
    assert (eval_logdet - logdet).abs().min() > 0.1  # the running statistics give another map


def test_batch_norm_normalizes_a_training_batch() -> None:
    layer = BatchNorm(2).double().train()
    u, _ = layer.inverse(points(500, 2))
    torch.testing.assert_close(u.mean(dim=0), torch.zeros(2, dtype=torch.float64), atol=1e-12, rtol=0)
    torch.testing.assert_close(u.var(dim=0, unbiased=False), torch.ones(2, dtype=torch.float64), atol=1e-5, rtol=0)


def test_running_averages_move_by_momentum_only_in_training_density_direction() -> None:
    layer = BatchNorm(2, momentum=0.05).double().train()
    x = points(30, 2)
    layer.inverse(x)
    torch.testing.assert_close(layer.running_mean, 0.05 * x.mean(dim=0))
    torch.testing.assert_close(layer.running_var, 0.95 + 0.05 * x.var(dim=0, unbiased=False))
    before = layer.running_mean.clone()
    layer.forward(x)  # sampling never updates
    layer.eval().inverse(x)  # nor does eval mode
    assert torch.equal(layer.running_mean, before)


def test_eval_mode_uses_the_running_statistics_in_both_directions() -> None:
    layer = randomised(BatchNorm(2)).train()
    for seed in range(5):
        layer.inverse(points(30, 2, seed))
    layer.eval()
    x = points(8, 2, seed=9)
    u, logdet = layer.inverse(x)
    expected = (x - layer.running_mean) / torch.sqrt(layer.running_var + layer.eps) * torch.exp(layer.log_scale)
    torch.testing.assert_close(u, expected + layer.shift)
    torch.testing.assert_close(layer.forward(u)[0], x)
    torch.testing.assert_close(layer.forward(u)[1], -logdet)


def test_the_decay_pitfall_follows_the_last_batch() -> None:
    """m <- m - 0.95 (m - b) is momentum 0.95: after a jump in the batches it has forgotten the past at once."""
    batches = [torch.tensor(0.0)] * 50 + [torch.tensor(1.0)]
    slow, fast = torch.tensor(0.0), torch.tensor(0.0)
    for batch in batches:
        slow, fast = running_average(slow, batch, 0.05), fast - 0.95 * (fast - batch)
    assert float(fast) > 0.9 and float(slow) < 0.1
    torch.testing.assert_close(fast, running_average(torch.tensor(0.0), torch.tensor(1.0), 0.95))


def test_bad_settings_and_tiny_batches_are_refused_clearly() -> None:
    with pytest.raises(ValueError, match="momentum must lie in"):
        BatchNorm(2, momentum=1.5)
    with pytest.raises(ValueError, match="eps must be positive"):
        BatchNorm(2, eps=0.0)
    with pytest.raises(ValueError, match="at least 2 points"):
        BatchNorm(2).train().inverse(torch.zeros(1, 2))
    BatchNorm(2).eval().inverse(torch.zeros(1, 2))  # fine with the running statistics


def test_act_norm_starts_on_the_first_training_batch_only() -> None:
    layer = ActNorm(3).double().train()
    assert not bool(layer.initialized)
    first = points(200, 3)
    u, logdet = layer.inverse(first)
    torch.testing.assert_close(u.mean(dim=0), torch.zeros(3, dtype=torch.float64), atol=1e-12, rtol=0)
    torch.testing.assert_close(u.var(dim=0, unbiased=False), torch.ones(3, dtype=torch.float64), atol=1e-4, rtol=0)
    torch.testing.assert_close(logdet, brute_force_logdet(layer.inverse, first))
    start = layer.mu.clone()
    layer.inverse(points(200, 3, seed=1) * 10)
    assert torch.equal(layer.mu, start) and bool(layer.initialized)
    assert "initialized" in layer.state_dict()


def test_act_norm_is_not_started_in_eval_mode() -> None:
    layer = ActNorm(2).double().eval()
    x = points(5, 2)
    torch.testing.assert_close(layer.inverse(x)[0], x)
    assert not bool(layer.initialized)
