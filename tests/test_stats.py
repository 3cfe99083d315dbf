"""The mean with its standard error, as lessons and benchmarks report numbers over seeds."""

from __future__ import annotations

import math

import pytest

from nfcourse.stats import mean_and_error


def test_mean_and_error_is_the_sample_standard_deviation_over_root_n() -> None:
    mean, error = mean_and_error([1.0, 2.0, 6.0])
    assert mean == pytest.approx(3.0)
    assert error == pytest.approx(math.sqrt(7.0 / 3.0))  # s^2 = (4 + 1 + 9) / 2 = 7, divided by n = 3


def test_a_single_value_has_no_standard_error() -> None:
    assert mean_and_error([0.25]) == (0.25, 0.0)
