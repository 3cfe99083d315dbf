"""Measuring how long a piece of code takes, the way the lessons' cost plots do.

    seconds = seconds_per_call(lambda: flow.log_prob(x))

Each measurement runs the call once to warm up (first calls allocate memory and pick kernels), then
`repeats` times, and returns the median, which a single slow run (another program, the garbage
collector) does not move. On a GPU it waits for the device before reading the clock, because CUDA
calls return before the work is done. Gradients are off: we time evaluation, not training.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import torch

from nfcourse.validation import check_positive_int


def synchronize() -> None:
    """Wait until queued GPU work has finished (nothing to wait for on a CPU)."""
    if torch.cuda.is_available():
        torch.cuda.synchronize()


def seconds_per_call(call: Callable[[], object], repeats: int = 5) -> float:
    """Median wall-clock seconds of `call()` over `repeats` runs, after one warm-up run, without gradients."""
    check_positive_int(repeats, "repeats")
    times = []
    with torch.no_grad():
        call()
        for _run in range(repeats):
            synchronize()
            start = time.perf_counter()
            call()
            synchronize()
            times.append(time.perf_counter() - start)
    return statistics.median(times)
