"""Tests of nfcourse.plotting: the numbers behind the pictures, the panels drawn, and Japanese text."""

from __future__ import annotations

import logging
import math
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from matplotlib import font_manager
from matplotlib.ft2font import FT2Font
from torch import nn

from nfcourse.bijectors import AffineLU, Compose, PReLU
from nfcourse.flow import Flow
from nfcourse.i18n import get_language, set_language, using_language
from nfcourse.plotting import (
    compare,
    density_grid,
    plot_deformation,
    plot_density,
    plot_samples,
    plot_training_curves,
    use_style,
)
from nfcourse.plotting.style import CJK_FONT, LATIN_FONT

JAPANESE_TITLE = "学習曲線 (負の対数尤度)"
GERMAN_LABEL = "Trainingsschritt — Größe, Übung, Maß"


@pytest.fixture(autouse=True)
def english_and_no_open_figures():
    """Every test runs in English and starts and ends with no figure open in pyplot (figures must not pile up)."""
    language = get_language()
    set_language("en")
    plt.close("all")
    yield
    set_language(language)
    assert plt.get_fignums() == [], "a plotting function left a figure open in pyplot"
    plt.close("all")


def tiny_flow(seed: int = 0) -> Flow:
    """An untrained 3-layer flow with randomly perturbed parameters, so that every layer moves points."""
    flow = Flow(Compose(AffineLU(2), PReLU(2), AffineLU(2)), dim=2)
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for parameter in flow.parameters():
            parameter.add_(0.3 * torch.randn(parameter.shape, generator=generator))
    return flow


@dataclass
class History:
    steps: list[int] = field(default_factory=lambda: list(range(1, 101)))
    train_nll: list[float] = field(default_factory=lambda: [1.0 + 2.0 / s for s in range(1, 101)])
    eval_steps: list[int] = field(default_factory=lambda: [25, 50, 75, 100])
    test_nll: list[float] = field(default_factory=lambda: [1.2, 1.1, 1.05, 1.04])


def visible_axes(fig: mpl.figure.Figure) -> list[mpl.axes.Axes]:
    return [ax for ax in fig.axes if ax.get_visible() and ax.axison]


# --- the numbers behind the heat map -------------------------------------------------------------


def test_density_grid_values_equal_exp_log_prob_at_the_grid_points():
    flow = tiny_flow()
    grid = density_grid(flow, limits=(-3, 3), resolution=23, batch_size=37)  # batches that split rows
    with torch.no_grad():
        expected = flow.log_prob(torch.as_tensor(grid.points(), dtype=torch.float32)).exp().numpy()
    assert grid.density.shape == (23, 23)
    np.testing.assert_allclose(grid.density.ravel(), expected, rtol=1e-5, atol=1e-7)


def test_density_grid_rows_follow_x2_and_columns_follow_x1():
    grid = density_grid(lambda x: x[:, 1] + 10 * x[:, 0], limits=((0, 1), (-2, 2)), resolution=5)
    np.testing.assert_allclose(grid.log_p, grid.x2[:, None] + 10 * grid.x1[None, :], atol=1e-6)


def test_density_grid_gives_zero_density_where_log_prob_is_minus_infinity():
    r2 = 1.1  # no point of the grid below has x1^2 + x2^2 = 1.1 (110 is no sum of two squares)

    def disk(x: torch.Tensor) -> torch.Tensor:
        inside = (x**2).sum(dim=1) < r2
        return torch.where(inside, x.new_full(x.shape[:1], -math.log(math.pi * r2)), x.new_full(x.shape[:1], -math.inf))

    grid = density_grid(disk, limits=(-2, 2), resolution=41)
    outside = (grid.points() ** 2).sum(axis=1) > r2
    assert (grid.density.ravel()[outside] == 0).all()
    np.testing.assert_allclose(grid.density.ravel()[~outside], 1 / (math.pi * r2), rtol=1e-6)
    for log_scale in (False, True):
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # no warning from -inf
            plot_density(disk, limits=(-2, 2), resolution=41, log_scale=log_scale)


def test_density_grid_runs_without_gradients_in_eval_mode_and_restores_the_mode():
    class Probe(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.inner = nn.Linear(2, 1)
            self.seen: list[tuple[bool, bool]] = []

        def log_prob(self, x: torch.Tensor) -> torch.Tensor:
            self.seen.append((self.inner.training, torch.is_grad_enabled()))
            return self.inner(x)[:, 0]

    probe = Probe().train()
    density_grid(probe, resolution=4)
    assert probe.seen == [(False, False)]
    assert probe.training and probe.inner.training


def test_density_grid_evaluates_in_the_dtype_of_the_flow():
    flow = tiny_flow().double()
    grid = density_grid(flow, resolution=7)
    with torch.no_grad():
        expected = flow.log_prob(torch.as_tensor(grid.points())).numpy()
    np.testing.assert_allclose(grid.log_p.ravel(), expected, rtol=1e-12)


def test_density_grid_rejects_a_log_prob_with_the_wrong_shape():
    with pytest.raises(ValueError, match="one value per point"):
        density_grid(lambda x: x, resolution=4)


def test_nan_log_densities_are_reported_with_a_warning():
    with pytest.warns(RuntimeWarning, match="NaN"):
        plot_density(lambda x: torch.full_like(x[:, 0], math.nan), resolution=4)


# --- the panels each function draws --------------------------------------------------------------


def test_plot_density_draws_one_map_and_its_colorbar():
    fig = plot_density(tiny_flow(), resolution=30)
    assert len(fig.axes) == 2
    assert len(fig.axes[0].images) == 1
    assert len(plot_density(tiny_flow(), resolution=30, colorbar=False, title="Dichte").axes) == 1


def test_plot_density_draws_into_a_given_axes():
    fig, ax = plt.subplots()
    assert plot_density(tiny_flow(), resolution=10, colorbar=False, ax=ax) is fig
    assert ax.get_title() == "density"
    plt.close(fig)


def test_plot_samples_puts_samples_beside_data_with_the_same_limits_and_equal_scales():
    data = torch.randn(300, 2, generator=torch.Generator().manual_seed(1))
    fig = plot_samples(tiny_flow(), data)
    data_ax, sample_ax = fig.axes
    assert [data_ax.get_title(), sample_ax.get_title()] == ["data", "samples"]
    assert data_ax.get_xlim() == sample_ax.get_xlim() and data_ax.get_ylim() == sample_ax.get_ylim()
    assert data_ax.get_aspect() == sample_ax.get_aspect() == 1.0
    assert len(sample_ax.collections[0].get_offsets()) == 300  # as many samples as data points


def test_plot_samples_without_data_draws_one_panel():
    assert len(plot_samples(torch.randn(50, 2), title="サンプル").axes) == 1


def test_plot_training_curves_draws_training_test_and_a_labelled_reference():
    fig = plot_training_curves(History(), reference=1.0, reference_label="entropy")
    (ax,) = fig.axes
    assert [text.get_text() for text in ax.get_legend().get_texts()] == ["training", "test", "entropy"]
    assert ax.get_xlabel() == "training step" and ax.get_ylabel() == "NLL (nats per dimension)"
    assert ax.get_ylim()[0] <= 1.0  # the reference line is in view


def test_plot_training_curves_accepts_a_history_without_evaluations():
    history = History(eval_steps=[], test_nll=[])
    (ax,) = plot_training_curves(history).axes
    assert [text.get_text() for text in ax.get_legend().get_texts()] == ["training"]


def test_plot_deformation_has_a_panel_for_the_noise_and_one_after_each_step_named_in_words():
    fig = plot_deformation(tiny_flow(), n_points=100, n_lines=3)
    assert len(visible_axes(fig)) == 4
    assert [ax.get_title() for ax in visible_axes(fig)] == [
        "noise u",
        "step 1: affine map (LU)",
        "step 2: PReLU",
        "step 3: affine map (LU)",
    ]
    with using_language("ja"):
        titles = [ax.get_title() for ax in visible_axes(plot_deformation(tiny_flow(), n_points=10, n_lines=2))]
    assert titles[1] == "ステップ 1：アフィン変換（LU 分解）"
    assert len(visible_axes(plot_deformation(tiny_flow().bijector, n_points=10, layers=[0, 3]))) == 2


def test_deformation_panel_k_shows_the_noise_after_k_layers():
    flow = tiny_flow()
    fig = plot_deformation(flow, n_points=50, n_lines=2, generator=torch.Generator().manual_seed(3))
    u = torch.randn(50, 2, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        stages = flow.bijector.forward_steps(u)
    for ax, expected in zip(visible_axes(fig), stages, strict=True):
        points = next(c for c in ax.collections if len(c.get_offsets()) == 50)
        np.testing.assert_allclose(points.get_offsets(), expected.numpy(), rtol=1e-5, atol=1e-6)


def test_plot_deformation_rejects_a_layer_the_model_does_not_have():
    with pytest.raises(ValueError, match="between 0 and 3"):
        plot_deformation(tiny_flow(), n_points=10, layers=[4])


def test_compare_draws_density_and_samples_for_the_data_and_each_model():
    data = torch.randn(200, 2, generator=torch.Generator().manual_seed(2))
    fig = compare({"A": tiny_flow(0), "B": tiny_flow(1)}, data, nll={"A": 1.23456}, resolution=20)
    assert len(fig.axes) == 2 * 3
    titles = [ax.get_title() for ax in fig.axes[:3]]
    assert titles == ["data", "A\nNLL 1.235", "B"]
    assert all(len(ax.images) == 1 for ax in fig.axes[:3])  # top row: densities
    assert all(len(ax.collections) == 1 for ax in fig.axes[3:])  # bottom row: points


# --- style and fonts -----------------------------------------------------------------------------


def test_use_style_is_idempotent_and_puts_the_cjk_font_after_the_latin_one():
    use_style()
    first = dict(mpl.rcParams)
    use_style()
    assert dict(mpl.rcParams) == first
    assert mpl.rcParams["font.family"] == [LATIN_FONT, CJK_FONT]


def missing_glyph_reports(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> tuple[list[str], mpl.text.Text]:
    """Draw a Japanese title and German labels, save to PNG; return matplotlib's font complaints."""
    with warnings.catch_warnings(record=True) as caught, caplog.at_level(logging.WARNING):
        warnings.simplefilter("always")
        fig = plot_training_curves(History(), title=JAPANESE_TITLE, xlabel=GERMAN_LABEL, reference=1.0)
        fig.savefig(tmp_path / "fonts.png")
    messages = [str(w.message) for w in caught] + [record.getMessage() for record in caplog.records]
    # matplotlib 3.8 says "missing from current font", 3.9 and later "missing from font(s) <name>"
    complaints = [m for m in messages if "missing from" in m or "Glyph" in m or "not found" in m]
    return complaints, fig.axes[0].title


def test_japanese_and_german_text_render_without_missing_glyphs(tmp_path, caplog):
    complaints, title = missing_glyph_reports(tmp_path, caplog)
    assert complaints == []
    assert (tmp_path / "fonts.png").stat().st_size > 0
    # the glyphs come from the CJK font: the Latin font lacks them, the CJK font (found by name) has them
    assert title.get_fontfamily()[:2] == [LATIN_FONT, CJK_FONT]
    latin = FT2Font(font_manager.findfont(font_manager.FontProperties(family=LATIN_FONT), fallback_to_default=False))
    cjk_path = font_manager.findfont(font_manager.FontProperties(family=CJK_FONT), fallback_to_default=False)
    assert Path(cjk_path).name == "ipaexg.ttf"
    japanese = {ord(c) for c in JAPANESE_TITLE if ord(c) > 0x3000}
    assert japanese.isdisjoint(latin.get_charmap()) and japanese <= set(FT2Font(cjk_path).get_charmap())
    assert {ord(c) for c in "äöüßÜ"} <= set(latin.get_charmap())  # German keeps the Latin font


def test_missing_glyphs_are_detected_when_the_cjk_fallback_is_absent(tmp_path, caplog):
    """The check above can fail: without the fallback font, matplotlib complains about the Japanese glyphs."""
    with mpl.rc_context({"font.family": [LATIN_FONT]}):
        complaints, _title = missing_glyph_reports(tmp_path, caplog)
    assert any("Glyph" in c and "missing from" in c for c in complaints)


DEVICES = ["cpu", pytest.param("cuda", marks=pytest.mark.skipif(not torch.cuda.is_available(), reason="no GPU"))]


@pytest.mark.parametrize("device", DEVICES)
def test_every_picture_is_computed_on_the_device_of_the_flow(device):
    flow = tiny_flow().to(device)
    data = torch.randn(100, 2, device=device)
    grid = density_grid(flow, resolution=8)
    with torch.no_grad():
        expected = flow.log_prob(torch.as_tensor(grid.points(), dtype=torch.float32, device=device)).cpu().numpy()
    np.testing.assert_allclose(grid.log_p.ravel(), expected, rtol=1e-5, atol=1e-5)
    plot_samples(flow, data)
    plot_deformation(flow, n_points=20, n_lines=2)
    compare({"flow": flow}, data, resolution=8)


def test_scaling_plot_draws_one_line_per_method_and_the_guides() -> None:
    from nfcourse.plotting import plot_scaling

    fig = plot_scaling([2, 4, 8], {"a": [1.0, 2.0, 4.0], "b": [1.0, 4.0, 16.0]}, ylabel="s")
    ax = fig.axes[0]
    assert len(ax.lines) == 4 and ax.get_xscale() == "log"
    assert [label.get_text() for label in ax.get_xticklabels()] == ["2", "4", "8"]
    with pytest.raises(ValueError, match="2 costs for 3 sizes"):
        plot_scaling([2, 4, 8], {"a": [1.0, 2.0]}, ylabel="s")
