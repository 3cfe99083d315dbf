"""Every graded task of the course, by id ("<lesson>.<name>"): one table for the sheets and the grader."""

from __future__ import annotations

from nfcourse.checks import (
    lesson00,
    lesson01,
    lesson02,
    lesson03,
    lesson04,
    lesson05,
    lesson06,
    lesson07,
    lesson08,
)
from nfcourse.checks.task import Task

LESSONS = (lesson00, lesson01, lesson02, lesson03, lesson04, lesson05, lesson06, lesson07, lesson08)
TASKS: dict[str, Task] = {task.id: task for lesson in LESSONS for task in lesson.TASKS}
