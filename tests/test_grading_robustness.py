"""The findings of the attack on the grader (issue 13), one test each; every one of them failed before its fix.

  (a) a lone surrogate in an exception message crashed the report, and in folder mode the whole batch: no
      later student graded, no CSV, and a rerun crashed at the same file;
  (b) a 400 KB deeply nested expression crashed the reference scan (RecursionError, MemoryError);
  (c) the reference implementation reached at run time (sys.modules, importlib, __import__, a computed
      getattr, `__subclasses__`, a helper in another cell) earned the points a plain import is denied.

Full grades run the sandbox (seconds each), so only the findings that need it grade a notebook; the scan's
bounds and its coverage of the ways to reach a module are checked on the sources directly.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import time
from pathlib import Path

import pytest
from sheets import sheet_notebook, write_notebook

from nfcourse.checks.task import Part
from nfcourse.grading.batch import grade_folder, submissions
from nfcourse.grading.folders import remove_tree
from nfcourse.grading.grader import Result, TaskResult, grade
from nfcourse.grading.report import gradescope, html_report, text, write_csv
from nfcourse.grading.scan import dynamic_access, references_used, suspicious, unscannable

SURROGATE = chr(0xD800)
LIBRARY_NAME = "'PR' + 'eLU'"  # the reference's name, never written out
EXACT_PRELU = (  # an answer built on the library's PReLU (`P`), exact for every slope: full points if undetected
    "class Exact(P):\n    def __init__(self, dim, slope):\n        super().__init__(dim)\n"
    "        self.exact = math.log(slope)\n\n"
    "    @property\n    def log_slope(self):\n        return torch.full_like(self.raw_log_slope, self.exact)\n\n\n"
    "class PReLUBijector:\n    def __init__(self, slope):\n        self.slope = slope\n\n"
    "    def forward(self, u):\n        return Exact(u.shape[1], self.slope).forward(u)\n\n"
    "    def inverse(self, x):\n        return Exact(x.shape[1], self.slope).inverse(x)\n"
)


def encodable(report: str) -> bool:
    return bool(report.encode("utf-8"))


def every_form_works(result: Result, folder: Path) -> None:
    """Every form of the report is made, and can be printed and stored, whatever the result holds."""
    assert encodable(text(result)) and encodable(html_report(result))
    assert encodable(json.dumps(gradescope(result), ensure_ascii=False))
    write_csv([result], folder / "one.csv")


def by_task(result: Result) -> dict[str, TaskResult]:
    return {task.task: task for task in result.tasks}


# (a) a lone surrogate, in folder mode


def test_a_surrogate_in_a_message_stops_neither_the_report_nor_the_batch(tmp_path) -> None:
    folder = tmp_path / "submitted"
    raising = f"def lognormal_log_prob(x):\n    raise ValueError('x' + chr({ord(SURROGATE)}))\n"
    write_notebook(sheet_notebook("00"), folder / "alice" / "00_recap.ipynb")
    write_notebook(sheet_notebook("00", replace={"00.lognormal": (None, raising)}), folder / "bob" / "00_recap.ipynb")
    write_notebook(sheet_notebook("00", "de"), folder / "carol" / "00_recap.ipynb")
    results = grade_folder(folder, tmp_path / "grades", jobs=2)
    assert [result.earned for result in results] == [12, 10, 12]
    assert "ValueError" in by_task(results[1])["00.lognormal"].parts[0].message
    assert len(list((tmp_path / "grades").rglob("*.json"))) == 3
    write_csv(results, tmp_path / "grades.csv")
    rows = list(csv.DictReader((tmp_path / "grades.csv").open(encoding="utf-8")))
    assert [row["earned"] for row in rows] == ["12", "10", "12"]
    for result in results:
        every_form_works(result, tmp_path)
    again = grade_folder(folder, tmp_path / "grades", jobs=2, grade_one=pytest.fail)
    assert again == results


def fake_result(path: Path, message: str, **changes: object) -> Result:
    """A result as a custom grade function might make it, for the file's current bytes."""
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    part = Part("part " + message, 2, 1, message)
    task = TaskResult("00.lognormal", "title " + message, 2, 1, [part], flags=[message])
    fields = {"notes": [message], "flags": [message], **changes}
    return Result(str(path), digest, "00_recap", "en", 2, 1, [task], **fields)


def recording(calls: list[str]):
    """A grade function that notes which student it grades."""

    def grade_one(path: Path, **options: object) -> Result:
        calls.append(path.parent.name)
        return fake_result(path, "fine")

    return grade_one


def test_one_file_that_cannot_be_graded_or_saved_costs_only_its_own_result(tmp_path) -> None:
    folder = tmp_path / "submitted"
    for student in ("alice", "bob", "carol", "dave"):
        (folder / student).mkdir(parents=True)
        (folder / student / "00_recap.ipynb").write_text(student)
    (tmp_path / "grades" / "dave" / "00_recap.json").mkdir(parents=True)  # a folder where its result belongs
    message = f"=cmd|' /C calc'!A0 {SURROGATE}\x1b[2J\n\u2028Total: 99/2"

    def custom_grade(path: Path, **options: object) -> Result:
        student = path.parent.name
        if student == "bob":
            raise RuntimeError("the grader broke " + SURROGATE)
        return fake_result(path, message, seconds=object() if student == "carol" else 0.5)

    results = grade_folder(folder, tmp_path / "grades", jobs=2, grade_one=custom_grade)
    alice, bob, carol, dave = results
    assert alice.earned == 1 and (bob.earned, carol.earned, dave.earned) == (0, 0, 0)
    assert "RuntimeError: the grader broke ?" in bob.problem
    assert "could not save" in carol.problem and "could not save" in dave.problem
    stored = json.loads((tmp_path / "grades" / "alice" / "00_recap.json").read_text(encoding="utf-8"))
    assert SURROGATE not in json.dumps(stored, ensure_ascii=False) and "?" in stored["notes"][0]
    write_csv(results, tmp_path / "grades.csv")
    table = (tmp_path / "grades.csv").read_text(encoding="utf-8")
    assert "\x1b" not in table and "'=cmd" in table and len(list(csv.reader(table.splitlines()))) == 5
    for result in results:
        every_form_works(result, tmp_path)
        assert [line for line in text(result).splitlines() if line.startswith("Total:")] == text(result).splitlines()[
            -1:
        ]
    calls = []
    grade_folder(folder, tmp_path / "grades", jobs=2, grade_one=recording(calls))
    assert sorted(calls) == ["bob", "carol", "dave"]  # alice resumes from her stored result


def test_a_stored_result_holding_a_surrogate_resumes_and_reports(tmp_path) -> None:
    notebook = tmp_path / "submitted" / "alice" / "00_recap.ipynb"
    notebook.parent.mkdir(parents=True)
    notebook.write_text("{}")
    stored = fake_result(notebook, "x" + SURROGATE).to_json()
    target = tmp_path / "grades" / "alice" / "00_recap.json"
    target.parent.mkdir(parents=True)
    target.write_text(json.dumps(stored), encoding="ascii")  # "\ud800", as JSON may write it
    (result,) = grade_folder(tmp_path / "submitted", tmp_path / "grades", grade_one=pytest.fail)
    assert SURROGATE in result.notes[0]
    every_form_works(result, tmp_path)


def test_ctrl_c_keeps_what_was_graded_and_a_rerun_resumes(tmp_path) -> None:
    folder = tmp_path / "submitted"
    for student in ("alice", "bob"):
        (folder / student).mkdir(parents=True)
        (folder / student / "00_recap.ipynb").write_text(student)

    def interrupted(path: Path, **options: object) -> Result:
        if path.parent.name == "bob":
            raise KeyboardInterrupt
        return fake_result(path, "fine")

    with pytest.raises(KeyboardInterrupt):
        grade_folder(folder, tmp_path / "grades", jobs=1, grade_one=interrupted)
    assert (tmp_path / "grades" / "alice" / "00_recap.json").exists()
    calls = []
    grade_folder(folder, tmp_path / "grades", grade_one=recording(calls))
    assert calls == ["bob"]


def test_a_folder_tree_deeper_than_the_recursion_limit_is_walked(tmp_path) -> None:
    folder = tmp_path / "submitted"
    (folder / "alice").mkdir(parents=True)
    (folder / "alice" / "00_recap.ipynb").write_text("{}")
    deep = folder / "deep"
    deep.mkdir()
    descriptor = os.open(deep, os.O_RDONLY)
    for _ in range(1500):  # one level at a time, relative to the last: no path grows long
        os.mkdir("d", dir_fd=descriptor)
        below = os.open("d", os.O_RDONLY, dir_fd=descriptor)
        os.close(descriptor)
        descriptor = below
    os.close(os.open("00_recap.ipynb", os.O_CREAT | os.O_WRONLY, dir_fd=descriptor))
    os.close(descriptor)
    (folder / "loop").symlink_to(folder)  # a link back up is not followed
    try:
        found = submissions(folder)
        assert len(found) == 2 and len(found[1].relative_to(folder).parts) == 1502
        assert submissions(folder, "*/00_recap.ipynb") == [folder / "alice" / "00_recap.ipynb"]
    finally:
        remove_tree(deep)  # shutil.rmtree, pytest's clean-up, recurses


# (b) a deeply nested expression


NESTED = {  # a source, and whether the scan must call it unscannable
    "parentheses, 400 KB": ("x = " + "(" * 200_000 + "1" + ")" * 200_000, True),  # longer than the bound
    "lists, 400 KB": ("x = " + "[" * 200_000 + "]" * 200_000, True),
    "parentheses, 40 KB": ("x = " + "(" * 20_000 + "1" + ")" * 20_000, False),  # a syntax error: cannot run
    "unary minus, 50 KB": ("x = " + "-" * 50_000 + "1", True),  # MemoryError in the parser
    "a sum, 90 KB": ("x = " + "1+" * 45_000 + "1", True),  # RecursionError building the tree
    "attributes, 90 KB": ("x = a" + ".b" * 45_000, True),
    "lambdas, 80 KB": ("x = " + "lambda: " * 10_000 + "1", True),
    "a lone surrogate": ("x = '" + SURROGATE + "'", True),  # no UTF-8 for the parser
    "a null byte": ("x = 1\0", False),  # a syntax error
}


@pytest.mark.parametrize(("source", "unreadable"), NESTED.values(), ids=NESTED.keys())
def test_the_scan_is_bounded_and_never_raises(source: str, unreadable: bool) -> None:
    started = time.monotonic()
    assert references_used(source, ("PReLU",)) == [] and dynamic_access(source) == [] and suspicious(source) == []
    assert unscannable(source) is unreadable
    assert time.monotonic() - started < 5


def test_a_deeply_nested_expression_is_graded_and_costs_no_task_without_references(tmp_path) -> None:
    nested = NESTED["parentheses, 400 KB"][0] + "\n" + NESTED["lists, 400 KB"][0] + "\n"
    code = nested + "def lognormal_log_prob(x):\n    return x\n"
    path = write_notebook(sheet_notebook("00", replace={"00.lognormal": (None, code)}), tmp_path / "s.ipynb")
    result = grade(path)
    tasks = by_task(result)
    assert tasks["00.lognormal"].earned == 0 and tasks["00.linear"].earned == 3  # no references: kept
    for task_id in ("00.prelu", "00.chain"):  # a cell the scan cannot read could hide the reference
        assert tasks[task_id].earned == 0 and "too deeply nested" in tasks[task_id].parts[0].message
    assert any(flag.startswith("00.lognormal: a solution cell is too long") for flag in result.flags)
    every_form_works(result, tmp_path)


# (c) the reference reached at run time


REACHES = {
    "sys.modules": f"import sys\nP = getattr(sys.modules['nfcourse.bijectors'], {LIBRARY_NAME})\n",
    "import_module": f"import importlib\nP = getattr(importlib.import_module('nfcourse.bijectors'), {LIBRARY_NAME})\n",
    "__import__": f"P = getattr(__import__('nfcourse.bijectors', fromlist=['x']), {LIBRARY_NAME})\n",
    "getattr": f"import nfcourse.bijectors as library\nP = getattr(library, {LIBRARY_NAME})\n",
    "__subclasses__": (
        "def below(c):\n    for s in c.__subclasses__():\n        yield s\n        yield from below(s)\n\n\n"
        f"P = next(c for c in below(torch.nn.Module) if c.__name__ == {LIBRARY_NAME} and 'nfcourse' in c.__module__)\n"
    ),
}


def assert_withheld(result: Result, label: str) -> None:
    """The tasks with references are withheld, say why naming `label`, and flag it; the others keep theirs."""
    tasks = by_task(result)
    for task_id in ("00.prelu", "00.chain"):
        message = tasks[task_id].parts[0].message
        assert tasks[task_id].earned == 0 and label in message and "instructor" in message, text(result)
        assert any(flag.startswith(f"{task_id}: reaches code") for flag in result.flags), text(result)
    assert tasks["00.lognormal"].earned + tasks["00.linear"].earned == 5, text(result)


@pytest.mark.parametrize("label", REACHES)
def test_the_reference_reached_at_run_time_earns_nothing(tmp_path, label: str) -> None:
    code = REACHES[label] + EXACT_PRELU
    result = grade(write_notebook(sheet_notebook("00", replace={"00.prelu": (None, code)}), tmp_path / "s.ipynb"))
    assert_withheld(result, label)


def test_the_reference_reached_by_a_helper_in_another_cell_earns_nothing(tmp_path) -> None:
    helper = "import sys\n\n\ndef library(name):\n    return getattr(sys.modules['nfcourse.bijectors'], name)\n\n\n"
    replace = {
        "00.lognormal": ("def lognormal_log_prob", helper + "def lognormal_log_prob"),
        "00.prelu": (None, f"P = library({LIBRARY_NAME})\n" + EXACT_PRELU),
    }
    result = grade(write_notebook(sheet_notebook("00", replace=replace), tmp_path / "s.ipynb"))
    assert_withheld(result, "sys.modules")
