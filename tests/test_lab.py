"""Lesson 08's lab: the flow table, the pass counter, the measurement, and the widgets' logic without a browser."""

from __future__ import annotations

import pytest
import torch
from sheets import answers

from nfcourse.checks import TASKS
from nfcourse.datasets import load
from nfcourse.lab import FLOW_NAMES, TrainingLab, build_flow, measure_flow, network_passes
from nfcourse.lab.watch import OVERLAID_POINTS
from nfcourse.training import fit


@pytest.mark.parametrize("name", FLOW_NAMES)
def test_every_flow_builds_samples_and_scores_its_samples(name: str) -> None:
    flow = build_flow(name, dim=3, depth=2).eval()
    with torch.no_grad():
        x, log_q = flow.sample_and_log_prob(64, generator=torch.Generator().manual_seed(0))
        assert x.shape == (64, 3)
        assert torch.allclose(flow.log_prob(x), log_q, atol=1e-3)


def test_an_unknown_flow_name_lists_the_known_ones() -> None:
    with pytest.raises(ValueError, match="Real-NVP"):
        build_flow("RealNVP", dim=2, depth=2)


@pytest.mark.parametrize("dim", [2, 5, 9])
def test_passes_are_one_per_layer_in_the_fast_direction_and_d_in_the_slow_one(dim: int) -> None:
    x = torch.randn(10, dim)
    for name, (density, sampling) in {"MAF": (1, dim), "IAF": (dim, 1), "Real-NVP": (1, 1)}.items():
        flow = build_flow(name, dim, depth=3).eval()
        with torch.no_grad():
            assert network_passes(flow, lambda flow=flow: flow.log_prob(x)) == density
            assert network_passes(flow, lambda flow=flow: flow.sample(10)) == sampling


def test_passes_need_a_network_and_the_hooks_are_removed() -> None:
    with pytest.raises(ValueError, match=r"nn\.Linear"):
        network_passes(torch.nn.Tanh(), lambda: None)
    flow = build_flow("Real-NVP", 2, depth=2)
    network_passes(flow, lambda: flow.sample(5))
    assert all(not layer._forward_hooks for layer in flow.modules())


def test_fit_calls_back_after_every_logged_step_and_the_last() -> None:
    calls = []
    fit(
        build_flow("MAF", 2, depth=1),
        load("moons", n_train=200).train,
        steps=10,
        log_every=3,
        progress=False,
        callback=lambda step, history: calls.append((step, len(history.train_nll))),
    )
    assert calls == [(3, 1), (6, 2), (9, 3), (10, 4)]


def test_measure_flow_reports_a_trained_flow_and_positive_costs() -> None:
    data = load("moons", n_train=500, n_test=200)
    row = measure_flow("Real-NVP", data, depth=2, steps=30)
    assert row.name == "Real-NVP" and not row.flow.training
    assert 0 < row.nll_gap < 3 and row.step_ms > 0 and row.sample_seconds > 0 and row.density_seconds > 0
    assert len(row.history.test_nll) == 1


def test_the_train_button_trains_the_chosen_flow_and_redraws() -> None:
    lab = TrainingLab(steps=40, redraw_every=20, n_train=300)
    shown = []
    lab.show = lambda figure: shown.append(figure.axes[0].get_title())
    lab.flow.value, lab.data.value, lab.depth.value = "NICE", "rings", 2
    lab.button.click()
    flow, history = lab.result
    assert len(shown) == 2 and "40" in shown[-1]
    assert flow.dim == 2 and history.steps[-1] == 40 and not lab.button.disabled


def test_the_button_shows_why_a_run_failed(capsys: pytest.CaptureFixture[str]) -> None:
    lab = TrainingLab(steps=5, n_train=300)

    def fails() -> None:
        raise ValueError("the loss became nan")

    lab.train = fails
    lab.button.click()  # outside a kernel the output area prints to stdout
    assert "the loss became nan" in capsys.readouterr().out


def test_a_coupling_flow_needs_two_dimensions() -> None:
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        build_flow("Real-NVP", dim=1, depth=2)
    assert build_flow("MAF", dim=1, depth=2).dim == 1


def test_the_button_comes_back_after_a_failed_run() -> None:
    lab = TrainingLab(steps=5, n_train=300)

    def fails(figure: object) -> None:
        raise RuntimeError("drawing failed")

    lab.show = fails
    lab.redraw_every = 5
    with pytest.raises(RuntimeError, match="drawing failed"):
        lab.train()
    assert not lab.button.disabled


@pytest.mark.parametrize("setting", ["steps", "redraw_every", "n_train"])
def test_a_lab_with_a_bad_setting_is_refused(setting: str) -> None:
    with pytest.raises(ValueError, match=setting):
        TrainingLab(**{"steps": 10, setting: 0})


def test_a_coupling_flow_is_also_a_right_choice_for_the_posterior() -> None:
    """Task 2 of sheet 08 has more than one right answer: any flow that samples in one pass per layer."""
    namespace = answers("08", replace=('build_flow("IAF", dim, depth=4)', 'build_flow("Real-NVP", dim, depth=3)'))
    parts = TASKS["08.posterior"].run(namespace["Posterior"], torch.Generator().manual_seed(1))
    assert sum(part.earned for part in parts) == 4, parts


def test_the_last_picture_is_kept_for_a_static_page() -> None:
    lab = TrainingLab(steps=10, redraw_every=5, n_train=300)
    lab.train()
    assert lab.last_figure.axes[0].get_title().endswith("10 steps")
    (overlay,) = lab.last_figure.axes[0].collections  # the test points drawn over the density
    assert len(overlay.get_offsets()) == OVERLAID_POINTS


def test_the_library_call_costs_the_pass_point_in_the_self_check_and_everything_at_grading() -> None:
    """The self-check says why; the grader withholds the task (its reference scan, tested in test_grading*)."""
    namespace = answers(
        "08",
        replace=(
            "        u = self.flow.base.sample(n, generator)\n",
            "        return self.flow.sample_and_log_prob(n, generator)\n",
        ),
    )
    parts = TASKS["08.posterior"].run(namespace["Posterior"], torch.Generator().manual_seed(0))
    assert [part.earned for part in parts] == [2, 0, 1]
    assert "sample_and_log_prob" in parts[1].message
    assert "sample_and_log_prob" in TASKS["08.posterior"].references
