"""Bad input fails at once with a message that names what was expected, never with a wrong answer."""

from __future__ import annotations

import pytest
import torch

from nfcourse.bijectors import AffineLU, Compose, ElementwiseAffine, Invert, Permutation, PReLU, soft_clamp
from nfcourse.flow import Flow


def two_d_flow() -> Flow:
    return Flow(Compose(AffineLU(2), PReLU(2)), dim=2)


@pytest.mark.parametrize(
    ("bad", "error", "message"),
    [
        ([[0.0, 1.0]], TypeError, "torch.Tensor"),
        (torch.zeros(3, 2, dtype=torch.long), TypeError, "floating-point"),
        (torch.zeros(4), ValueError, r"shape \(batch, dim\)"),
        (torch.zeros(4, 3), ValueError, "2 columns"),
        (torch.tensor([[0.0, float("nan")], [1.0, 1.0]]), ValueError, "NaN or infinite values in 1 of its 2 rows"),
        (torch.tensor([[0.0, float("inf")]]), ValueError, "NaN or infinite"),
    ],
)
def test_log_prob_rejects_bad_points(bad: object, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        two_d_flow().log_prob(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize("bijector", [ElementwiseAffine(2), PReLU(2), AffineLU(2), Permutation([1, 0])])
def test_bijectors_reject_the_wrong_number_of_columns(bijector: torch.nn.Module) -> None:
    with pytest.raises(ValueError, match="2 columns"):
        bijector.forward(torch.zeros(5, 3))
    with pytest.raises(ValueError, match="2 columns"):
        bijector.inverse(torch.zeros(5, 1))


@pytest.mark.parametrize("n", [0, -3, 2.5, "10"])
def test_sampling_needs_a_positive_whole_number(n: object) -> None:
    with pytest.raises(ValueError, match="n must be a positive whole number"):
        two_d_flow().sample(n)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("make", "error", "message"),
    [
        (lambda: ElementwiseAffine(0), ValueError, "dim must be a positive whole number"),
        (lambda: PReLU(2, slope=0.0), ValueError, "slope must be positive"),
        (lambda: Permutation([0, 0, 1]), ValueError, "not a permutation"),
        (lambda: Compose(), ValueError, "at least one bijector"),
        (lambda: Compose(torch.nn.Linear(2, 2)), TypeError, "Bijector"),
        (lambda: Invert(torch.nn.Linear(2, 2)), TypeError, "Bijector"),
        (lambda: Flow(torch.nn.Linear(2, 2), dim=2), TypeError, "Bijector"),
        (lambda: soft_clamp(torch.zeros(1), bound=0.0), ValueError, "bound must be positive"),
    ],
)
def test_bad_construction_is_refused(make: object, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        make()  # type: ignore[operator]
