r"""A self-check is data plus judgement: the inputs to try, how to call the answer, and a verdict on the values.

A `Task` splits grading into three steps so that the judgement never needs the learner's code:

    inputs  = task.make_inputs(generator)      trusted: random inputs (shapes and values) from a seed
    outputs = task.call(answer, inputs)        the learner's process: run their function or class
    parts   = task.judge(inputs, outputs)      trusted: compare plain tensors with the reference

In a notebook all three run in one process (the self-check). The grader runs `call` in a sandbox,
receives the outputs as plain arrays, and judges them in its own process, with a secret seed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch

from nfcourse.i18n import _

Tensors = dict[str, torch.Tensor]


@dataclass(frozen=True)
class Failure:
    """Why an answer returned nothing to judge: "not_implemented", "wrong_format" (detail: what was expected)
    or "error" (error: the exception's type, detail: its message)."""

    kind: str
    detail: str = ""
    error: str = ""


class Opaque:
    """A returned value that is not a tensor, as the grader receives it from the sandbox: only its type's name."""

    def __init__(self, type_name: str) -> None:
        self.type_name = type_name


def type_name(value: object) -> str:
    """The name of `value`'s type, for messages (an `Opaque` value keeps the name it was sent with)."""
    return value.type_name if isinstance(value, Opaque) else type(value).__name__


class WrongFormat(Exception):  # noqa: N818 (a verdict on the answer, not an error of the library)
    """An answer returned something that is not the tensor the task asks for; the message says what was expected."""


@dataclass(frozen=True)
class Part:
    """One judged part of a task: its name, the points it is worth and earned, and what was found."""

    name: str
    points: int
    earned: int
    message: str
    attempted: bool = True  # False only for an answer that is still `raise NotImplementedError`


@dataclass(frozen=True)
class Task:
    """A graded task of an exercise sheet (see the module docstring for the three steps)."""

    id: str  # "<lesson>.<name>", e.g. "00.prelu"
    title: str  # English; shown translated
    answer: str  # the name the learner defines in the sheet
    make_inputs: Callable[[torch.Generator], Tensors]
    call: Callable[[Any, Tensors], dict[str, object]]  # what the answer returned, unchecked
    judge: Callable[[Tensors, dict[str, object]], list[Part]]
    points: int
    hint: str  # English; shown translated under a self-check that did not earn every point
    references: tuple[str, ...] = ()  # library names that already solve the task; the grader flags their use

    def run(self, answer: object, generator: torch.Generator) -> list[Part]:
        """All three steps in this process: the self-check. Never raises because of the answer."""
        inputs = self.make_inputs(generator)
        outputs = self.attempt(answer, inputs)
        return self.failed(outputs) if isinstance(outputs, Failure) else self.verdict(inputs, outputs)

    def attempt(self, answer: object, inputs: Tensors) -> dict[str, object] | Failure:
        """Step 2: call the answer on copies of the inputs; what it returned, or why it could not."""
        try:
            return self.call(answer, {name: value.clone() for name, value in inputs.items()})
        except NotImplementedError:
            return Failure("not_implemented")
        except WrongFormat as error:
            return Failure("wrong_format", str(error))
        except Exception as error:  # the learner's code failed: report it, do not crash the sheet
            return Failure("error", str(error), error=type(error).__name__)

    def failed(self, failure: Failure) -> list[Part]:
        """The verdict on an answer that returned nothing to judge: 0 points and the reason."""
        if failure.kind == "not_implemented":
            message = _("Write your solution in the cell above.")
            return [Part(_("not implemented yet"), self.points, 0, message, attempted=False)]
        if failure.kind == "wrong_format":
            return [Part(_("returns the right kind of value"), self.points, 0, failure.detail)]
        message = _("Your code raised {error}: {detail}").format(error=failure.error, detail=failure.detail)
        return [Part(_("runs without an error"), self.points, 0, message)]

    def verdict(self, inputs: Tensors, outputs: dict[str, object]) -> list[Part]:
        """Judge plain outputs; a malformed answer earns 0 points with a message that says what was expected."""
        try:
            parts = self.judge(inputs, outputs)
        except WrongFormat as error:
            return [Part(_("returns the right kind of value"), self.points, 0, str(error))]
        assert sum(part.points for part in parts) == self.points, f"{self.id}: parts do not add up to its points"
        return parts


def tensor_output(value: object, name: str, shape: tuple[int, ...]) -> torch.Tensor:
    """`value` as a float64 tensor of exactly `shape`, or `WrongFormat` naming what was expected."""
    if not isinstance(value, torch.Tensor):
        raise WrongFormat(
            _("{name} should be a torch.Tensor of shape {shape}, but it is a {type}.").format(
                name=name, shape=shape, type=type_name(value)
            )
        )
    if tuple(value.shape) != shape:
        hint = ""
        if value.ndim == len(shape) + 1 and tuple(value.shape[: len(shape)]) == shape:
            hint = " " + _("Did you forget to sum over the dimensions?")
        raise WrongFormat(
            _("{name} should have shape {shape}, one number per sample, but it has shape {got}.").format(
                name=name, shape=shape, got=tuple(value.shape)
            )
            + hint
        )
    return value.detach().to(torch.float64)


def pair_output(value: object, name: str) -> tuple[object, object]:
    """A method's `(output, logdet)` pair, or `WrongFormat` if it returned something else."""
    if not isinstance(value, tuple) or len(value) != 2:
        raise WrongFormat(_("{name} should return a pair (values, logdet).").format(name=name))
    return value
