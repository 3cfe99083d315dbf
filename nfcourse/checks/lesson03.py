"""The graded tasks of sheet 03 (being written)."""

from __future__ import annotations

from nfcourse.checks.task import Task

TASKS: list[Task] = []
