"""The self-check cells of the exercise sheets: `check(task_id, answer)` and, at the end, `summary()`.

A self-check runs the task's inputs through the learner's answer in the notebook's own process and prints,
in the sheet's language, what is right, what is wrong (with numbers), and the points earned. A blank sheet
gets "not implemented yet" for every task and 0 points, and never an exception.
The inputs here come from a fixed seed; the grader draws fresh ones from a secret seed, so an answer
that is right only for these inputs scores nothing there.
"""

from __future__ import annotations

import torch

from nfcourse.checks.registry import TASKS
from nfcourse.checks.task import Part
from nfcourse.i18n import _

SELF_CHECK_SEED = 2026
_earned: dict[str, tuple[int, int]] = {}  # task id -> (earned, points) of its latest self-check


def report(task_id: str, parts: list[Part]) -> str:
    """The text a self-check prints: one line per part, then the points."""
    task = TASKS[task_id]
    lines = [_("Self-check {id}: {title}").format(id=task.id, title=_(task.title))]
    for part in parts:
        mark = "✓" if part.earned == part.points else "✗"
        line = _("{mark} {name} ({earned}/{points}): {message}")
        lines.append(
            "  " + line.format(mark=mark, name=part.name, earned=part.earned, points=part.points, message=part.message)
        )
    earned = sum(part.earned for part in parts)
    if earned < task.points and all(part.attempted for part in parts):
        lines.append(_("Hint: {hint}").format(hint=_(task.hint)))
    lines.append(_("Points: {earned}/{points}").format(earned=earned, points=task.points))
    return "\n".join(lines)


def check(task_id: str, answer: object) -> None:
    """Run the self-check of task `task_id` (e.g. "00.prelu") on `answer` and print its report."""
    if task_id not in TASKS:
        raise KeyError(
            _("Unknown task {id!r}; the known ones are: {known}.").format(id=task_id, known=", ".join(TASKS))
        )
    parts = TASKS[task_id].run(answer, torch.Generator().manual_seed(SELF_CHECK_SEED))
    _earned[task_id] = (sum(part.earned for part in parts), TASKS[task_id].points)
    print(report(task_id, parts))


def summary(lesson: str) -> None:
    """Print the points of every task of `lesson` (e.g. "00") checked so far in this session."""
    lines, total, possible = [], 0, 0
    for task_id, task in TASKS.items():
        if not task_id.startswith(f"{lesson}."):
            continue
        earned, points = _earned.get(task_id, (0, task.points))
        line = (
            _("{title}: {earned}/{points}") if task_id in _earned else _("{title}: {earned}/{points} (not checked yet)")
        )
        lines.append("  " + line.format(title=_(task.title), earned=earned, points=points))
        total, possible = total + earned, possible + points
    print("\n".join([_("Your points on this sheet (self-check; the grader uses other inputs):"), *lines]))
    print(_("Total: {earned}/{points}").format(earned=total, points=possible))
