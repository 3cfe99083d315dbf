"""Judging numbers: is an answer right, and if not, which typical mistake does it match?

Answers are compared in float64 with a tolerance of 1e-5 (relative and absolute): loose enough for an
answer computed in float32 (relative round-off ~1e-7, a few dozen operations), tight enough that every
mistake the checks name (a flipped sign, a missing term, the wrong side of a PReLU) is off by far more.
"""

from __future__ import annotations

import torch

from nfcourse.checks.task import Part, WrongFormat, tensor_output
from nfcourse.i18n import _

TOLERANCE = 1e-5


def close(got: torch.Tensor, expected: torch.Tensor) -> bool:
    """True when every entry agrees to `TOLERANCE` (NaN never agrees)."""
    return bool(torch.isclose(got, expected, rtol=TOLERANCE, atol=TOLERANCE).all())


def worst_entry(got: torch.Tensor, expected: torch.Tensor) -> tuple[float, int]:
    """The largest absolute difference (inf where a value is not finite) and the sample (row) it is in."""
    difference = (got - expected).abs().nan_to_num(nan=float("inf"))
    flat = int(difference.reshape(-1).argmax())
    per_row = difference[0].numel() if difference.ndim > 1 else 1
    return float(difference.reshape(-1)[flat]), flat // per_row


def judge_values(
    name: str,
    points: int,
    answer: object,
    *,
    label: str,
    expected: torch.Tensor,
    mistakes: list[tuple[torch.Tensor, str]],
    where: torch.Tensor,
    where_name: str,
) -> Part:
    """One part of a verdict: full points if `answer` matches `expected`, else a message naming the mistake.

    `answer` must be a tensor of `expected`'s shape (`label` names it in the message if not). `mistakes`
    pairs the value a typical mistake would produce with the message that names it; the first one the
    answer matches is reported. Otherwise the message gives the largest difference and the input row
    (`where[row]`, called `where_name`) at which it occurs.
    """
    try:
        got = tensor_output(answer, label, tuple(expected.shape))
    except WrongFormat as error:
        return Part(name, points, 0, str(error))
    if close(got, expected):
        return Part(name, points, points, _("correct"))
    for wrong, message in mistakes:
        if close(got, wrong):
            return Part(name, points, 0, message)
    difference, row = worst_entry(got, expected)
    message = _(
        "differs from the correct value by {difference:.3g} at {where} = {point} (yours: {got}, correct: {correct})"
    )
    values = {"point": rounded(where[row], 3), "got": rounded(got[row], 4), "correct": rounded(expected[row], 4)}
    return Part(name, points, 0, message.format(difference=difference, where=where_name, **values))


def rounded(values: torch.Tensor, digits: int) -> list[float]:
    """A row of a tensor as a short list for a message."""
    return [round(value, digits) for value in values.reshape(-1).tolist()]
