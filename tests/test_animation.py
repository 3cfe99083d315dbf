"""The layer-by-layer animation: its frame plan, its interpolation, and self-contained HTML made headless (Agg)."""

from __future__ import annotations

import re

import matplotlib.pyplot
import numpy as np
import pytest
import torch

from nfcourse.bijectors import Compose, ElementwiseAffine, maf, reverse
from nfcourse.plotting import animate_layers
from nfcourse.plotting.animation import between, frame_plan


def small_maf() -> Compose:
    flow = maf(2, layers=2, hidden_sizes=(8,))
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for parameter in flow.parameters():  # large weights, so that the layers move the points
            parameter.copy_(0.3 * torch.randn(parameter.shape, generator=generator))
    return flow


def frames_in(html: str) -> int:
    return html.count("data:image/png;base64,")


def test_frame_plan_counts_one_start_frame_plus_frames_per_moving_layer_and_one_per_jump() -> None:
    plan = frame_plan(3, 4, jumps=[False, True, False])
    assert len(plan) == 1 + 4 + 1 + 4
    assert plan[0] == (0, 1.0) and plan[-1] == (3, 1.0)
    assert [t for k, t in plan if k == 1] == [0.25, 0.5, 0.75, 1.0]
    assert [t for k, t in plan if k == 2] == [1.0]


def test_in_between_frames_lie_on_the_straight_line_and_end_on_the_key_frames() -> None:
    stages = [np.zeros((3, 2)), np.ones((3, 2)), np.full((3, 2), 3.0)]
    assert np.array_equal(between(stages, 0, 1.0), stages[0])
    assert np.allclose(between(stages, 2, 0.5), 2.0)
    assert np.array_equal(between(stages, 2, 1.0), stages[2])


def test_animation_runs_headless_with_the_agg_backend_and_has_the_planned_frames() -> None:
    matplotlib.pyplot.switch_backend("agg")  # no display, as under nbval and in CI
    flow = small_maf()  # MADE layer, reverse permutation, MADE layer
    html = animate_layers(flow, n_points=200, frames_per_layer=3, generator=torch.Generator().manual_seed(1)).data
    assert frames_in(html) == 1 + 3 + 1 + 3


def test_html_holds_the_javascript_player_and_refers_to_no_outside_url() -> None:
    html = animate_layers(Compose(ElementwiseAffine(2), reverse(2)), n_points=100, frames_per_layer=2).data
    assert "<script" in html
    assert not re.search(r"https?://|//cdn|font-awesome", html)
    assert 'class="fa' not in html  # the icon font's buttons were replaced by plain symbols
    assert frames_in(html) == 1 + 2 + 1


def test_default_animation_of_a_five_layer_maf_stays_light() -> None:
    """Five MADE layers, four permutations: 25 small frames, under a megabyte and a half."""
    html = animate_layers(maf(2, layers=5, hidden_sizes=(8,)), generator=torch.Generator().manual_seed(0)).data
    assert frames_in(html) == 1 + 5 * 4 + 4
    assert len(html) < 1_500_000


@pytest.mark.parametrize("bad", [0, -1])
def test_frames_per_layer_must_be_positive(bad: int) -> None:
    with pytest.raises(ValueError):
        animate_layers(small_maf(), frames_per_layer=bad)


def test_the_players_labels_speak_the_chosen_language() -> None:
    """Every label of matplotlib's player is known to `PLAYER_TEXTS`, and shown translated: none stays English."""
    from nfcourse.i18n import using_language
    from nfcourse.plotting.animation import PLAYER_TEXTS

    flow = Compose(ElementwiseAffine(2), reverse(2))
    english = animate_layers(flow, n_points=50, frames_per_layer=1).data
    shown = {a or b for a, b in re.findall(r'(?:title|aria-label)="([^"]*)"|>([^<>]+)</label>', english)}
    assert shown == set(PLAYER_TEXTS)  # a new matplotlib label would need a translation
    for language in ("de", "ja"):
        with using_language(language):
            html = animate_layers(flow, n_points=50, frames_per_layer=1).data
        assert not any(f'"{text}"' in html or f">{text}</label>" in html for text in PLAYER_TEXTS if text != "Pause")
