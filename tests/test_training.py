"""The `fit` loop: it learns, it records, it stops loudly on a non-finite loss."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from nfcourse.bijectors import AffineLU, Bijector, Compose, ElementwiseAffine, PReLU
from nfcourse.datasets import load
from nfcourse.flow import Flow
from nfcourse.runtime import budget
from nfcourse.training import NonFiniteLossError, evaluate_nll, evaluate_oracle, fit


def part_one_flow(layers: int = 4) -> Flow:
    blocks = [b for _ in range(layers) for b in (AffineLU(2), PReLU(2))]
    return Flow(Compose(*blocks, AffineLU(2)), dim=2)


class Scale(Bijector):
    """x = w u with a scalar w that starts at 0: a bijector that is broken on purpose."""

    def __init__(self) -> None:
        super().__init__()
        self.w = nn.Parameter(torch.zeros(()))

    def forward(self, u: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.w * u, (u.shape[1] * torch.log(self.w.abs())).expand(u.shape[0])

    def inverse(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return x / self.w, (-x.shape[1] * torch.log(self.w.abs())).expand(x.shape[0])


def test_training_the_part_one_flow_on_moons_lowers_the_test_nll() -> None:
    """Margin 0.2 nats per dimension: the start (a standard normal) is at ~1.42, training reaches ~1.1."""
    torch.manual_seed(0)
    data = load("moons", n_train=4000, n_test=1000, seed=0)
    flow = part_one_flow()
    before = evaluate_nll(flow, data.test).per_dim
    history = fit(flow, data.train, data.test, steps=600, lr=5e-3, eval_every=200, progress=False, device="cpu")
    after = evaluate_nll(flow, data.test).per_dim
    assert after < before - 0.2, f"test NLL per dimension went from {before:.3f} to {after:.3f}"
    assert history.eval_steps == [200, 400, 600] and history.test_nll[-1] == pytest.approx(after)
    assert len(history.steps) == 600 // 25 and history.train_nll[-1] < history.train_nll[0]


def test_evaluate_nll_is_the_mean_negative_log_prob() -> None:
    flow, x = part_one_flow(1), torch.randn(300, 2, generator=torch.Generator().manual_seed(0))
    nll = evaluate_nll(flow, x, batch_size=64)
    expected = -flow.log_prob(x).mean().item()
    assert nll.total == pytest.approx(expected, rel=1e-5) and nll.per_dim == pytest.approx(expected / 2, rel=1e-5)


def test_non_finite_loss_stops_training_with_step_and_advice() -> None:
    flow = Flow(Compose(Scale(), ElementwiseAffine(2)), dim=2)
    with pytest.raises(NonFiniteLossError, match=r"step 1: the loss became .*learning rate"):
        fit(flow, torch.randn(64, 2), steps=10, progress=False, device="cpu")


def test_fast_mode_shortens_the_training_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NFCOURSE_FAST", "1")
    history = fit(part_one_flow(1), torch.randn(64, 2), steps=budget(full=1000, fast=30), progress=False)
    assert history.steps[-1] == 30


def test_training_data_with_nan_is_refused_before_any_step() -> None:
    data = torch.randn(10, 2)
    data[3, 1] = float("nan")
    with pytest.raises(ValueError, match="train contains NaN"):
        fit(part_one_flow(1), data, steps=5, progress=False)


def test_the_oracle_is_the_true_density_scored_like_a_flow() -> None:
    """evaluate_oracle gives the data's own NLL on its test split, in the form evaluate_nll gives a model's."""
    data = load("eight_gaussians", n_train=100, n_test=500, seed=3)
    oracle = evaluate_oracle(data)
    exact = -data.log_prob(data.test.to(torch.float64)).mean().item()
    assert oracle.total == pytest.approx(exact, rel=1e-12)
    assert oracle.per_dim == pytest.approx(exact / 2, rel=1e-12)


def test_the_progress_bar_redraws_at_most_once_a_second_and_vanishes() -> None:
    """A long notebook cell must not flood the kernel's message stream with progress-bar redraws."""
    from nfcourse.training import progress_bar

    bar = progress_bar(10, "training", show=True)
    assert list(bar) == list(range(1, 11)) and bar.mininterval >= 1.0 and not bar.leave
