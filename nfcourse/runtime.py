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


class TargetMissedError(AssertionError):
    """A full-mode run missed the number its lesson promises (a training budget or bound to revisit)."""


def expect_at_most(what: str, value: float, bound: float) -> None:
    """State a lesson's target and check it: in full mode a `value` above `bound` raises `TargetMissedError`.

    In fast mode the budgets are too small to reach the target, so the number is only printed.
    """
    if is_fast_mode():
        print(
            _("{what}: {value:.3f} (target in full mode: at most {bound:.3f}; fast mode, not checked)").format(
                what=what, value=value, bound=bound
            )
        )
    elif value <= bound:
        print(_("{what}: {value:.3f}, at most {bound:.3f} as promised").format(what=what, value=value, bound=bound))
    else:
        raise TargetMissedError(
            _(
                "{what} is {value:.3f}, above the target {bound:.3f}. Something changed: check the training budget."
            ).format(what=what, value=value, bound=bound)
        )
