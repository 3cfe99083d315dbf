"""Hostile submissions against the sheets after lesson 03, which the 47 cases of test_grading_adversarial.py
(built on sheet 00) do not reach: the library's reference reached by a star import, torch patched inside the
sandbox, and an answer that remembers what it was called with instead of computing."""

from __future__ import annotations

import json

import pytest
from sheets import sheet_notebook, write_notebook

from nfcourse.checks import TASKS
from nfcourse.grading.grader import grade
from nfcourse.grading.sheets import lessons, sheet

LATER = [lesson for lesson in lessons() if lesson[:2] >= "04"]

COMPARISONS_PATCHED = """import torch, numpy
torch.allclose = lambda *args, **kwargs: True
torch.equal = lambda *args, **kwargs: True
torch.testing.assert_close = lambda *args, **kwargs: None
numpy.allclose = lambda *args, **kwargs: True
"""
EQUALITY_PATCHED = "torch.Tensor.__eq__ = lambda self, other: torch.ones((), dtype=torch.bool)\n"


def solution_sources(number: str, kind: str = "solutions") -> dict[str, str]:
    """The source of each task's solution cell in the English sheet of `kind`, by task id."""
    cells = sheet_notebook(number, kind=kind)["cells"]
    return {
        cell["metadata"]["nfcourse"]["task"]: "".join(cell["source"])
        for cell in cells
        if cell["metadata"].get("nfcourse", {}).get("role") == "solution"
    }


def earned(result) -> dict[str, int]:
    return {task.task: task.earned for task in result.tasks}


def test_there_are_later_sheets() -> None:
    assert {"04", "05"} <= {lesson[:2] for lesson in LATER}


@pytest.mark.parametrize("lesson", LATER)
def test_a_star_import_of_the_library_withholds_every_task_that_has_a_reference(tmp_path, lesson: str) -> None:
    number = lesson[:2]
    replace = {
        task: (None, source + "\nfrom nfcourse.bijectors import *\n")
        for task, source in solution_sources(number).items()
    }
    result = grade(write_notebook(sheet_notebook(number, replace=replace), tmp_path / "star.ipynb"))
    for task in sheet(lesson).tasks:
        expected = 0 if TASKS[task.id].references else task.points
        assert earned(result)[task.id] == expected, task.id
    assert result.flags, "the instructor is told why"


@pytest.mark.parametrize("lesson", LATER)
def test_patching_torch_inside_the_sandbox_earns_nothing(tmp_path, lesson: str) -> None:
    number = lesson[:2]
    blank = solution_sources(number, kind="exercises")
    replace = {task: (None, COMPARISONS_PATCHED + EQUALITY_PATCHED + source) for task, source in blank.items()}
    result = grade(write_notebook(sheet_notebook(number, kind="exercises", replace=replace), tmp_path / "p.ipynb"))
    assert result.earned == 0
    solved = solution_sources(number)
    replace = {task: (None, COMPARISONS_PATCHED + source) for task, source in solved.items()}
    result = grade(write_notebook(sheet_notebook(number, replace=replace), tmp_path / "s.ipynb"))
    assert result.earned == result.points  # the judging happens outside: patches change nothing either way


REMEMBERING_COUPLING = '''
class AffineCouplingLayer(Bijector):
    """Computes forward honestly, and answers inverse from memory: the u it last saw, with the negated log-det."""

    def __init__(self, mask, net):
        super().__init__()
        self.mask, self.net, self.seen = mask, net, None

    def forward(self, u):
        mu, alpha = self.net(u * self.mask)
        x = self.mask * u + (1 - self.mask) * (u * torch.exp(alpha) + mu)
        logdet = ((1 - self.mask) * alpha).sum(dim=1)
        self.seen = (u, logdet)
        return x, logdet

    def inverse(self, x):
        u, logdet = self.seen
        return u, -logdet
'''


def test_a_coupling_layer_that_remembers_instead_of_inverting_loses_the_inverse_points(tmp_path) -> None:
    notebook = sheet_notebook("04", replace={"04.affine_coupling": (None, REMEMBERING_COUPLING)})
    result = grade(write_notebook(notebook, tmp_path / "remember.ipynb"))
    assert earned(result)["04.affine_coupling"] == 2  # forward values and log-det only
    assert result.earned == sheet("04_coupling").points - 2
    assert json.dumps(result.flags) == "[]"
