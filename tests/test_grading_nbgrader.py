"""A real nbgrader course: generate_assignment on a solved sheet, four collected submissions (solved,
blank, one mistake, one that forges nbgrader's execute reply), graded by our grader into nbgrader's
gradebook. nbgrader's own autograde is run on the forged and the blank one for contrast: it gives both full
points, because our self-check cells report by printing and never raise."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from sheets import MISTAKES, write_notebook
from test_grading_adversarial import NBGRADER_FORGERY

from nfcourse.cli import main
from tools.lessons import ROOT

ASSIGNMENT = "00_recap-de"


def nbgrader(course: Path, *args: str) -> None:
    environment = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    subprocess.run(["nbgrader", *args], cwd=course, env=environment, check=True, capture_output=True, timeout=300)


def collected(course: Path, student: str, notebook: dict) -> None:
    write_notebook(notebook, course / "submitted" / student / ASSIGNMENT / "00_recap.ipynb")


def solution_cell(notebook: dict, task: str) -> dict:
    return next(
        cell
        for cell in notebook["cells"]
        if cell["metadata"].get("nfcourse", {}).get("task") == task
        and cell["metadata"]["nfcourse"]["role"] == "solution"
    )


def test_nbgrader_course_graded_into_the_gradebook(tmp_path) -> None:
    from nbgrader.api import Gradebook

    course = tmp_path / "course"
    (course / "source" / ASSIGNMENT).mkdir(parents=True)
    shutil.copy(ROOT / "solutions" / "de" / "00_recap.ipynb", course / "source" / ASSIGNMENT)
    (course / "nbgrader_config.py").write_text(
        f"c = get_config()\nc.CourseDirectory.db_assignments = [dict(name={ASSIGNMENT!r})]\n"
    )
    nbgrader(course, "generate_assignment", ASSIGNMENT, "--force")
    released = json.loads((course / "release" / ASSIGNMENT / "00_recap.ipynb").read_text(encoding="utf-8"))
    source = json.loads((course / "source" / ASSIGNMENT / "00_recap.ipynb").read_text(encoding="utf-8"))
    assert "raise NotImplementedError" in "".join(solution_cell(released, "00.prelu")["source"])

    collected(course, "solved", source)
    collected(course, "blank", released)
    task, (old, new), keeps, _names = MISTAKES[0]
    wrong = json.loads(json.dumps(source))
    cell = solution_cell(wrong, task)
    cell["source"] = "".join(cell["source"]).replace(old, new)
    collected(course, "wrong", wrong)
    forged = json.loads(json.dumps(released))
    cell = solution_cell(forged, "00.lognormal")
    cell["source"] = NBGRADER_FORGERY + "".join(cell["source"])
    collected(course, "mallory", forged)

    assert main(["nbgrader", str(course), ASSIGNMENT, "--lesson", "00_recap", "--csv", str(tmp_path / "g.csv")]) == 0
    expected = {"solved": 12, "blank": 0, "wrong": 12 - 2 + keeps, "mallory": 0}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        scores = {student: gradebook.find_submission(ASSIGNMENT, student).score for student in expected}
    assert scores == expected
    feedback = (course / "feedback" / "wrong" / ASSIGNMENT / "00_recap.html").read_text(encoding="utf-8")
    assert "falsche Vorzeichen" in feedback or "Vorzeichen" in feedback

    for student in ("mallory", "blank"):  # nbgrader's autograde: the self-check cells print, they never fail
        nbgrader(course, "autograde", ASSIGNMENT, "--student", student, "--force")
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        assert gradebook.find_submission(ASSIGNMENT, "mallory").score == 12
        assert gradebook.find_submission(ASSIGNMENT, "blank").score == 12
