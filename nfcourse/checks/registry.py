"""Every graded task of the course, by id ("<lesson>.<name>"): one table for the sheets and the grader."""

from __future__ import annotations

from nfcourse.checks import lesson00, lesson01, lesson02, lesson03
from nfcourse.checks.task import Task

TASKS: dict[str, Task] = {task.id: task for lesson in (lesson00, lesson01, lesson02, lesson03) for task in lesson.TASKS}
