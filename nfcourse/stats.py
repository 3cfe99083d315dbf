r"""The mean of repeated measurements with its standard error: how the course reports numbers over seeds.

Math:     mean $\bar v = \frac1n \sum_i v_i$; standard error $\sqrt{s^2 / n}$,
          with $s^2 = \frac{1}{n-1}\sum_i (v_i - \bar v)^2$
Lessons:  04 onwards, and the benchmarks
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence


def mean_and_error(values: Sequence[float]) -> tuple[float, float]:
    """The mean of `values` and the standard error of that mean (0.0 for a single value)."""
    mean = statistics.fmean(values)
    if len(values) < 2:
        return mean, 0.0
    return mean, statistics.stdev(values) / math.sqrt(len(values))
