"""Grading submitted exercise sheets without trusting them (see README.md, "For instructors").

    from nfcourse.grading import grade, grade_folder
    result = grade(Path("alice/00_recap.ipynb"))        # a Result: points per task, messages, flags

Modules, in the order a submission passes through them: `submission` (read the notebook, never run it),
`sheets` (the official code and tasks), `sandbox`, `isolation`, `launch` and `worker` (run the
learner's code fenced in), `folders` (the job folder seen from outside), `exchange` and `untrusted`
(plain data and text across the fence), `grader` (judge), `report` (text, HTML, Gradescope, CSV),
`batch` (folders), `gradebook` (nbgrader), `gradescope` (the autograder bundle).
"""

from nfcourse.grading.batch import grade_folder
from nfcourse.grading.grader import Result, grade
from nfcourse.grading.sandbox import Limits, protections

__all__ = ["Limits", "Result", "grade", "grade_folder", "protections"]
