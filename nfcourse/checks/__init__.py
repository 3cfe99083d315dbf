"""Self-checks of the exercise sheets, defined once and used by the notebooks and by the grader.

from nfcourse.checks import check, summary
check("00.prelu", PReLUBijector)     # prints what is right, what is wrong, and the points
summary("00")                        # the points of the whole sheet so far
"""

from nfcourse.checks.registry import TASKS
from nfcourse.checks.selfcheck import check, summary
from nfcourse.checks.task import Part, Task

__all__ = ["TASKS", "Part", "Task", "check", "summary"]
