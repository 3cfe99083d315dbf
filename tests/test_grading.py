"""The grader on real sheets: solved sheets score full points and blank ones zero in every language, each
seeded typical mistake loses exactly its points with a message naming it, reports in every form, and
folders graded in parallel, resumably, with a CSV."""

from __future__ import annotations

import csv
import json

import pytest
from sheets import MISTAKES, sheet_notebook, write_notebook

from nfcourse.checks import TASKS
from nfcourse.grading.batch import grade_folder
from nfcourse.grading.grader import Result, grade
from nfcourse.grading.report import gradescope, html_report, text, write_csv
from nfcourse.grading.sheets import lessons, sheet

LANGUAGES = ("en", "de", "ja")


def by_task(result: Result) -> dict:
    return {task.task: task for task in result.tasks}


@pytest.mark.parametrize("lesson", lessons())
@pytest.mark.parametrize("language", LANGUAGES)
def test_solved_sheet_scores_full_and_blank_zero(tmp_path, lesson: str, language: str) -> None:
    number, total = lesson[:2], sheet(lesson).points
    solved = grade(write_notebook(sheet_notebook(number, language), tmp_path / "solved.ipynb"))
    blank = grade(write_notebook(sheet_notebook(number, language, "exercises"), tmp_path / "blank.ipynb"))
    assert (solved.earned, solved.points, solved.problem, solved.flags) == (total, total, "", [])
    assert (blank.earned, blank.points) == (0, total)
    assert solved.language == blank.language == language
    if language != "en":  # the report speaks the sheet's language
        assert "not implemented yet" not in text(blank)


def mistake_rounds() -> list[list[tuple]]:
    """The seeded mistakes in rounds of one lesson with at most one mistake per task: one notebook per round."""
    rounds: list[list[tuple]] = []
    for mistake in MISTAKES:
        for round_ in rounds:
            same_lesson = round_[0][0][:2] == mistake[0][:2]
            if same_lesson and all(other[0] != mistake[0] for other in round_):
                round_.append(mistake)
                break
        else:
            rounds.append([mistake])
    return rounds


@pytest.mark.parametrize("mistakes", mistake_rounds(), ids=lambda round_: "+".join(m[0] for m in round_))
def test_seeded_mistakes_lose_exactly_their_points_through_the_sandbox(tmp_path, mistakes) -> None:
    replace = {task: old_new for task, old_new, _keeps, _names in mistakes}
    notebook = sheet_notebook(mistakes[0][0][:2], replace=replace)
    result = grade(write_notebook(notebook, tmp_path / "wrong.ipynb"))
    tasks = by_task(result)
    for task_id, _replace, keeps, names in mistakes:
        assert tasks[task_id].earned == keeps, tasks[task_id]
        assert any(names in part.message for part in tasks[task_id].parts), tasks[task_id].parts
    untouched = [task for task in tasks.values() if task.task not in replace]
    assert all(task.earned == task.points for task in untouched)


def test_reports_agree_and_escape_learner_text(tmp_path) -> None:
    code = 'def lognormal_log_prob(x):\n    raise ValueError("<script>alert(1)</script>")\n'
    path = write_notebook(sheet_notebook("00", replace={"00.lognormal": (None, code)}), tmp_path / "sub.ipynb")
    result = grade(path)
    assert result.earned == 10
    page = html_report(result)
    assert "<script>" not in page and "&lt;script&gt;" in page
    results_json = gradescope(result)
    assert results_json["score"] == 10 and sum(test["max_score"] for test in results_json["tests"]) == 12
    assert all(test["output_format"] == "text" for test in results_json["tests"])
    assert Result.from_json(json.loads(json.dumps(result.to_json()))) == result
    assert "Total: 10/12" in text(result)


def test_folder_in_parallel_resumes_and_writes_csv(tmp_path) -> None:
    folder = tmp_path / "submitted"
    write_notebook(sheet_notebook("00"), folder / "alice" / "00_recap.ipynb")
    write_notebook(sheet_notebook("00", "ja", "exercises"), folder / "bob" / "00_recap.ipynb")
    (folder / "carol").mkdir()
    (folder / "carol" / "00_recap.ipynb").write_text("{ not json", encoding="utf-8")
    calls = []

    def counting_grade(path, **options):
        calls.append(path.parent.name)
        return grade(path, **options)

    results = grade_folder(folder, tmp_path / "grades", jobs=2, grade_one=counting_grade)
    assert sorted(calls) == ["alice", "bob", "carol"]
    assert [result.earned for result in results] == [12, 0, 0]
    assert "JSON" in results[2].problem
    write_csv(results, tmp_path / "grades.csv")
    rows = list(csv.DictReader((tmp_path / "grades.csv").open(encoding="utf-8")))
    assert [row["earned"] for row in rows] == ["12", "0", "0"] and rows[0]["00.prelu"] == "4"
    calls.clear()  # a rerun grades only what changed
    write_notebook(sheet_notebook("00", "ja"), folder / "bob" / "00_recap.ipynb")
    results = grade_folder(folder, tmp_path / "grades", jobs=2, grade_one=counting_grade)
    assert calls == ["bob"] and [result.earned for result in results] == [12, 12, 0]


def test_library_reference_implementation_is_flagged(tmp_path) -> None:
    code = (
        "from nfcourse.bijectors import PReLU\n\n"
        "class PReLUBijector(PReLU):\n"
        "    def __init__(self, slope):\n"
        "        super().__init__(1, slope=slope)\n"
    )
    result = grade(write_notebook(sheet_notebook("00", replace={"00.prelu": (None, code)}), tmp_path / "s.ipynb"))
    assert by_task(result)["00.prelu"].earned == 0 and result.earned == 8
    assert any("PReLU" in flag for flag in result.flags)


@pytest.mark.parametrize("lesson", lessons())
def test_every_task_of_a_sheet_has_a_grader_entry(lesson: str) -> None:
    assert {task.id for task in sheet(lesson).tasks} == {t for t in TASKS if t.startswith(lesson[:2] + ".")}
