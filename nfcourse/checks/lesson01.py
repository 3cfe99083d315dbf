"""The graded tasks of sheet 01 (being written)."""

from __future__ import annotations

from nfcourse.checks.task import Task

TASKS: list[Task] = []
