"""Where code runs and how long it trains: the device, the seeds, and the fast-mode switch.

Every notebook calls `seed_everything` first and `budget(full=..., fast=...)` for every training
run. Setting the environment variable `NFCOURSE_FAST=1` switches all budgets to their small
values: CI runs every notebook that way, and a learner in a hurry can too.
"""

from __future__ import annotations

import os
import random

import numpy as np
import torch

from nfcourse.i18n import _
from nfcourse.validation import check_positive_int

FAST_MODE_VARIABLE = "NFCOURSE_FAST"


def device() -> torch.device:
    """CUDA when a GPU is present, else the CPU."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def seed_everything(seed: int) -> torch.Generator:
    """Seed Python's, NumPy's and PyTorch's generators; return a fresh `torch.Generator` with that seed.

    Re-running a notebook then gives the same numbers and pictures (on the same device).
    """
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # also seeds every CUDA device
    return torch.Generator().manual_seed(seed)


def is_fast_mode() -> bool:
    """True when `NFCOURSE_FAST` is set to 1, true, yes or on (any case)."""
    return os.environ.get(FAST_MODE_VARIABLE, "").strip().lower() in {"1", "true", "yes", "on"}


def budget(full: int, fast: int) -> int:
    """The number of training steps (or samples, ...) to use: `fast` in fast mode, else `full`."""
    check_positive_int(full, "full")
    check_positive_int(fast, "fast")
    if fast > full:
        message = _("The fast budget ({fast}) must not exceed the full one ({full}).")
        raise ValueError(message.format(fast=fast, full=full))
    return fast if is_fast_mode() else full


def by_mode(full: float, fast: float) -> float:
    """A setting other than a budget that differs between the modes: `fast` in fast mode, else `full`.

    For example a learning rate with which a short fast-mode run still gets somewhere; say in the lesson
    that the two modes differ in it.
    """
    return fast if is_fast_mode() else full


class TargetMissedError(AssertionError):
    """A full-mode run missed the number its lesson promises (a training budget or bound to revisit)."""


class FormulaMismatchError(AssertionError):
    """A formula stated in a lesson's prose disagrees with what the code counts: the prose or the code is wrong."""


def expect_equal(what: str, counted: object, formula: object) -> None:
    """Check a formula of the prose against the number the code counts (e.g. parameters), in every mode.

    Counts are exact, so they must agree exactly; a disagreement raises `FormulaMismatchError`, since
    the notebook would otherwise teach a formula that its own model does not follow.
    """
    if counted != formula:
        raise FormulaMismatchError(
            _("{what}: the code counts {counted}, the formula gives {formula}.").format(
                what=what, counted=counted, formula=formula
            )
        )
    print(_("{what}: the formula agrees with the count").format(what=what))


def expect_at_most(what: str, value: float, bound: float) -> None:
    """State a lesson's target and check it: in full mode a `value` above `bound` raises `TargetMissedError`.

    In fast mode the budgets are too small to reach the target, so the number is only printed.
    """
    messages = (
        _("{what}: {value:.3f} (target in full mode: at most {bound:.3f}; fast mode, not checked)"),
        _("{what}: {value:.3f}, at most {bound:.3f} as promised"),
        _("{what} is {value:.3f}, above the target {bound:.3f}. Something changed: check the training budget."),
    )
    _expect(what, value, bound, value <= bound, messages)


def expect_at_least(what: str, value: float, bound: float) -> None:
    """Like `expect_at_most`, for a number that must reach `bound` (a gain, or a gap that the lesson says is large)."""
    messages = (
        _("{what}: {value:.3f} (target in full mode: at least {bound:.3f}; fast mode, not checked)"),
        _("{what}: {value:.3f}, at least {bound:.3f} as promised"),
        _("{what} is {value:.3f}, below the target {bound:.3f}. Something changed: check the training budget."),
    )
    _expect(what, value, bound, value >= bound, messages)


def _expect(what: str, value: float, bound: float, met: bool, messages: tuple[str, str, str]) -> None:
    """Print the fast-mode note or the kept promise, or raise `TargetMissedError` with the third message."""
    fast, kept, missed = (message.format(what=what, value=value, bound=bound) for message in messages)
    if is_fast_mode():
        print(fast)
    elif met:
        print(kept)
    else:
        raise TargetMissedError(missed)
