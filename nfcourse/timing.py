r"""Measuring how long a piece of code takes, the way the lessons' cost plots do, and how cost grows with D.

    seconds = seconds_per_call(lambda: flow.log_prob(x))
    table = seconds_in_turns({2: lambda: f(x2), 64: lambda: f(x64)})     # several calls, measured in turns

Each call runs once to warm up (first calls allocate memory and pick kernels), then `repeats` times, and
the fastest run counts: anything else running on the machine can only add time to a run, so the fastest
one is the closest to what the call itself costs. `seconds_in_turns` measures several calls in rounds,
one run of each per round, so that a busy spell of the machine falls on all of them alike instead of on
the few that happened to run during it; that is what keeps a growth exponent from moving with the load.

Timings run on one PyTorch thread (unless `threads` says otherwise), so they do not depend on the number
of cores or on how a machine splits small matrix products between them. On a GPU the clock is read after
the device has finished, because CUDA calls return before the work is done. Gradients are off: we time
evaluation, not training.

Growth:  `growth_exponent` is the least-squares slope $k$ of $\log(\text{cost})$ against $\log D$, the
         exponent in $\text{cost} \approx c\,D^k$, over the sizes where fixed overheads matter less.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TypeVar

import torch

from nfcourse.i18n import _
from nfcourse.validation import check_positive_int

Key = TypeVar("Key", bound=Hashable)


def synchronize() -> None:
    """Wait until queued GPU work has finished (nothing to wait for on a CPU)."""
    if torch.cuda.is_available():
        torch.cuda.synchronize()


@contextmanager
def torch_threads(threads: int) -> Iterator[None]:
    """Run the block on `threads` PyTorch threads, then restore the number it had."""
    before = torch.get_num_threads()
    torch.set_num_threads(check_positive_int(threads, "threads"))
    try:
        yield
    finally:
        torch.set_num_threads(before)


def seconds_in_turns(calls: Mapping[Key, Callable[[], object]], repeats: int = 5, threads: int = 1) -> dict[Key, float]:
    """The fastest wall-clock time of each call over `repeats` rounds; each round runs every call once.

    Every call is warmed up once first. No gradients; `threads` PyTorch threads (see the module docstring).
    """
    check_positive_int(repeats, "repeats")
    fastest = dict.fromkeys(calls, math.inf)
    with torch.no_grad(), torch_threads(threads):
        for call in calls.values():
            call()
        for _round in range(repeats):
            for key, call in calls.items():
                synchronize()
                start = time.perf_counter()
                call()
                synchronize()
                fastest[key] = min(fastest[key], time.perf_counter() - start)
    return fastest


def seconds_per_call(call: Callable[[], object], repeats: int = 5, threads: int = 1) -> float:
    """The fastest wall-clock time of `call()` over `repeats` runs after one warm-up run (no gradients)."""
    return seconds_in_turns({"call": call}, repeats, threads)["call"]


def growth_exponent(sizes: Sequence[float], costs: Sequence[float], from_size: float = 8) -> float:
    r"""The least-squares slope $k$ of $\log(\text{cost})$ against $\log(\text{size})$ over sizes $\ge$ `from_size`.

    A cost that grows like $c\,D^k$ gives $k$: 1 for linear growth, 2 for quadratic, 0 for a flat cost.
    """
    pairs = [(math.log(size), math.log(cost)) for size, cost in zip(sizes, costs, strict=True) if size >= from_size]
    if len(pairs) < 2:
        message = _("A growth exponent needs at least two sizes of at least {smallest}; got {sizes}.")
        raise ValueError(message.format(smallest=from_size, sizes=list(sizes)))
    mean_x = sum(x for x, _y in pairs) / len(pairs)
    mean_y = sum(y for _x, y in pairs) / len(pairs)
    return sum((x - mean_x) * (y - mean_y) for x, y in pairs) / sum((x - mean_x) ** 2 for x, _y in pairs)
