"""The device helper, the seeding helper and the fast-mode budget switch."""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch

from nfcourse.runtime import budget, device, is_fast_mode, seed_everything


def test_device_is_cuda_exactly_when_cuda_is_available() -> None:
    assert device().type == ("cuda" if torch.cuda.is_available() else "cpu")


def test_seed_everything_repeats_every_generator() -> None:
    def draw() -> tuple[float, float, float, float]:
        generator = seed_everything(7)
        return random.random(), float(np.random.rand()), torch.rand(1).item(), torch.rand(1, generator=generator).item()

    assert draw() == draw()


@pytest.mark.parametrize("value", ["1", "true", "YES", "on"])
def test_fast_mode_switch_gives_the_fast_budget(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("NFCOURSE_FAST", value)
    assert is_fast_mode() and budget(full=5000, fast=200) == 200


@pytest.mark.parametrize("value", ["", "0", "no"])
def test_without_fast_mode_the_full_budget_is_used(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("NFCOURSE_FAST", value)
    assert not is_fast_mode() and budget(full=5000, fast=200) == 5000


@pytest.mark.parametrize(("full", "fast"), [(0, 1), (10, 0), (10, 20), (10.5, 2), (True, 1)])
def test_nonsense_budgets_are_rejected(full: object, fast: object) -> None:
    with pytest.raises(ValueError, match=r"full|fast"):
        budget(full=full, fast=fast)  # type: ignore[arg-type]


def test_expect_equal_passes_a_formula_that_agrees_and_stops_one_that_does_not(capsys) -> None:
    from nfcourse.runtime import FormulaMismatchError, expect_equal

    expect_equal("parameters of MADE", [17412, 41344], [17412, 41344])
    assert "agrees" in capsys.readouterr().out
    with pytest.raises(FormulaMismatchError, match="41344"):
        expect_equal("parameters of MADE", [17412, 41344], [17412, 24960])


def test_expect_at_least_checks_in_full_mode_and_only_prints_in_fast_mode(monkeypatch, capsys) -> None:
    from nfcourse.runtime import TargetMissedError, expect_at_least

    monkeypatch.setenv("NFCOURSE_FAST", "0")
    expect_at_least("gain", 0.7, 0.5)
    assert "at least 0.500 as promised" in capsys.readouterr().out
    with pytest.raises(TargetMissedError, match=r"below the target 0\.500"):
        expect_at_least("gain", 0.3, 0.5)
    monkeypatch.setenv("NFCOURSE_FAST", "1")
    expect_at_least("gain", 0.3, 0.5)
    assert "fast mode, not checked" in capsys.readouterr().out


def test_by_mode_picks_the_setting_of_the_mode(monkeypatch) -> None:
    from nfcourse.runtime import by_mode

    monkeypatch.setenv("NFCOURSE_FAST", "1")
    assert by_mode(full=1e-3, fast=3e-3) == 3e-3
    monkeypatch.setenv("NFCOURSE_FAST", "0")
    assert by_mode(full=1e-3, fast=3e-3) == 1e-3
