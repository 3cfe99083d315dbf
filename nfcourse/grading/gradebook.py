"""nbgrader: grade a course's collected submissions with this grader and put the scores in its gradebook.

nbgrader lays a course out as `submitted/<student>/<assignment>/<notebook>.ipynb` and keeps grades in
`gradebook.db`. `import_scores` grades each collected notebook of an assignment (in the sandbox, never
with nbgrader's in-process `autograde`), records each task's points as the auto score of the task's
graded self-check cell, and writes the HTML report to `feedback/<student>/<assignment>/<notebook>.html`,
where `nbgrader release_feedback` expects it.
"""

from __future__ import annotations

import warnings
from pathlib import Path

from nfcourse.grading.batch import grade_folder
from nfcourse.grading.grader import Result
from nfcourse.grading.report import html_report
from nfcourse.grading.sheets import sheet


def import_scores(course: Path, assignment: str, lesson: str, **options: object) -> list[Result]:
    """Grade `submitted/*/<assignment>/*.ipynb` of the course at `course` and store the scores in its gradebook."""
    from nbgrader.api import Gradebook, MissingEntry  # only instructors need nbgrader

    submitted = course / "submitted"
    results = grade_folder(
        submitted,
        course / "nfcourse-grades",
        pattern=f"*/{assignment}/*.ipynb",
        lesson=lesson,
        **options,
    )
    checks = sheet(lesson).checks
    skipped: list[str] = []
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook, warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Object of type")  # nbgrader's own add_submission warns
        for result in results:
            relative = Path(result.submission).resolve().relative_to(submitted.resolve())
            if len(relative.parts) != 3 or relative.parts[1] != assignment:
                continue
            student, notebook = relative.parts[0], relative.stem
            gradebook.update_or_create_student(student)
            try:
                gradebook.find_submission(assignment, student)
            except MissingEntry:
                gradebook.add_submission(assignment, student)
            earned = {task.task: task.earned for task in result.tasks}
            try:
                grades = [gradebook.find_grade(cell, notebook, assignment, student) for cell in checks.values()]
            except MissingEntry:  # a notebook that is not part of the assignment, e.g. a student's scratch file
                skipped.append(result.submission)
                continue
            for grade, task_id in zip(grades, checks, strict=True):
                grade.auto_score = earned.get(task_id, 0)
            gradebook.db.commit()
            feedback = course / "feedback" / student / assignment / f"{notebook}.html"
            feedback.parent.mkdir(parents=True, exist_ok=True)
            feedback.write_text(html_report(result), encoding="utf-8")
    for path in skipped:
        print(f"not in the gradebook (not a notebook of {assignment}): {path}")
    return results
