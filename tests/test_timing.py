"""The timer behind every cost plot: fastest of the runs, in turns, one thread, no gradients; and growth exponents."""

from __future__ import annotations

import time

import pytest
import torch

from nfcourse.timing import growth_exponent, seconds_in_turns, seconds_per_call


def test_the_fastest_run_counts_so_one_slow_run_changes_nothing_and_the_warm_up_is_not_measured() -> None:
    calls = []

    def call() -> None:
        calls.append((torch.is_grad_enabled(), torch.get_num_threads()))
        time.sleep(0.2 if len(calls) in (1, 3) else 0.002)  # a slow warm-up and one slow measured run

    seconds = seconds_per_call(call, repeats=5)
    assert len(calls) == 6  # one warm-up, five measured
    assert calls == [(False, 1)] * 6  # no gradients, one thread (the default)
    assert 0.002 <= seconds < 0.1


def test_calls_are_measured_in_turns_and_the_thread_count_is_restored() -> None:
    order = []
    threads = torch.get_num_threads()
    seconds = seconds_in_turns({"a": lambda: order.append("a"), "b": lambda: order.append("b")}, repeats=3)
    assert order == ["a", "b"] * 4  # warm-ups, then three rounds of one run each
    assert set(seconds) == {"a", "b"} and all(value >= 0 for value in seconds.values())
    assert torch.get_num_threads() == threads


@pytest.mark.parametrize("k", [0.0, 1.0, 2.0, 1.5])
def test_growth_exponent_recovers_the_power_of_an_exact_power_law(k: float) -> None:
    sizes = [2, 4, 8, 16, 32, 64]
    costs = [3e-4 * d**k for d in sizes]
    assert growth_exponent(sizes, costs) == pytest.approx(k, abs=1e-12)


def test_growth_exponent_uses_only_the_sizes_from_the_threshold_on() -> None:
    sizes = [2, 4, 8, 16]
    costs = [1.0, 1.0, 8.0, 16.0]  # flat overhead at small D, then linear
    assert growth_exponent(sizes, costs, from_size=8) == pytest.approx(1.0)


def test_growth_exponent_needs_two_sizes() -> None:
    with pytest.raises(ValueError, match="at least two sizes"):
        growth_exponent([2, 4, 8], [1.0, 2.0, 3.0], from_size=8)


def test_the_number_of_threads_can_be_chosen() -> None:
    seen = []
    seconds_per_call(lambda: seen.append(torch.get_num_threads()), repeats=2, threads=2)
    assert seen == [2, 2, 2]
