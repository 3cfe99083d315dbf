"""The official exercise sheets, as the grader needs them: which code runs, in which order, for which task.

`python -m tools.build` writes one file per lesson, `sheets/<lesson>.json`:

    {"lesson": "00_recap",
     "cells": [{"id": "imports", "source": "import math ..."},      official code, run as written
               {"id": "lognormal-code", "task": "00.lognormal"},   the learner's cell of that id
               ...],
     "checks": {"00.lognormal": "lognormal-check", ...}}             nbgrader's graded cell of each task

Self-check cells are left out. The grader runs the official code, never the submission's copy of it, so
only the learner's own solution cells come from the submitted notebook.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from nfcourse.checks.registry import TASKS
from nfcourse.checks.task import Task

FOLDER = Path(__file__).with_name("sheets")


@dataclass(frozen=True)
class SheetCell:
    id: str
    source: str = ""  # the official code; empty for a solution cell
    task: str = ""  # the task id of a solution cell


@dataclass(frozen=True)
class Sheet:
    lesson: str  # "00_recap"
    cells: tuple[SheetCell, ...]
    checks: dict[str, str]  # task id -> the id of its self-check cell, which nbgrader grades

    @property
    def tasks(self) -> list[Task]:
        return [TASKS[cell.task] for cell in self.cells if cell.task]

    @property
    def points(self) -> int:
        return sum(task.points for task in self.tasks)

    def solution_cells(self, task_id: str) -> list[str]:
        """The ids of the cells in which the learner writes the answer to `task_id`."""
        return [cell.id for cell in self.cells if cell.task == task_id]


def lessons() -> list[str]:
    """Every lesson that has a graded sheet, e.g. ["00_recap"]."""
    return sorted(path.stem for path in FOLDER.glob("*.json"))


@cache
def sheet(lesson: str) -> Sheet:
    """The official sheet of `lesson`; KeyError if there is none."""
    path = FOLDER / f"{lesson}.json"
    if lesson not in lessons():
        raise KeyError(lesson)
    data = json.loads(path.read_text(encoding="utf-8"))
    return Sheet(data["lesson"], tuple(SheetCell(**cell) for cell in data["cells"]), data["checks"])


def sheet_data(lesson: str, code_cells: list[tuple[str, str, str]], checks: dict[str, str]) -> str:
    """The text of `sheets/<lesson>.json` from the source's code cells as (id, source, task id or "")."""
    cells = [{"id": key, "task": task} if task else {"id": key, "source": source} for key, source, task in code_cells]
    return json.dumps({"lesson": lesson, "cells": cells, "checks": checks}, indent=1, ensure_ascii=False) + "\n"
