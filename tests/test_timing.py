"""seconds_per_call returns the median of the repeated runs, without gradients, after a warm-up."""

from __future__ import annotations

import time

import torch

from nfcourse.timing import seconds_per_call


def test_median_ignores_one_slow_run_and_counts_the_warm_up() -> None:
    calls = []

    def call() -> None:
        calls.append(torch.is_grad_enabled())
        time.sleep(0.05 if len(calls) == 3 else 0.001)

    seconds = seconds_per_call(call, repeats=5)
    assert len(calls) == 6 and not any(calls)  # one warm-up, five measured (the third is slow)
    assert 0.0005 < seconds < 0.02
