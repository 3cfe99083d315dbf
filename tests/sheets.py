"""Answers for the self-check tests, taken from the lesson sources themselves.

`answers(lesson, variant)` executes the sheet's code cells the way a learner's notebook would: the solved
sheet (`"solution"`), the blank exercise sheet (`"blank"`), or the solved sheet with one text replacement
(a seeded mistake), and returns the namespace that holds the answers.
"""

from __future__ import annotations

import json
from pathlib import Path

import mistakes_00
import mistakes_01
import mistakes_02
import mistakes_03
import mistakes_04
import mistakes_05
import mistakes_06
import mistakes_07
import mistakes_08

from tools.lessons import LESSONS, ROOT, read, stub

MISTAKES = [
    *mistakes_00.MISTAKES,
    *mistakes_01.MISTAKES,
    *mistakes_02.MISTAKES,
    *mistakes_03.MISTAKES,
    *mistakes_04.MISTAKES,
    *mistakes_05.MISTAKES,
    *mistakes_06.MISTAKES,
    *mistakes_07.MISTAKES,
    *mistakes_08.MISTAKES,
]
"""Every seeded typical mistake: (task, (text in the solution, replacement), points it keeps, words naming it).
Each lesson's list lives in tests/mistakes_NN.py; all are also graded through the sandbox in test_grading.py."""


def sheet_notebook(lesson: str, language: str = "en", kind: str = "solutions", replace: dict | None = None) -> dict:
    """A generated sheet as JSON, with text replaced in the solution cells of some tasks ({task: (old, new)});
    `old=None` replaces the whole cell."""
    path = next((ROOT / kind / language).glob(f"{lesson}_*.ipynb"))
    notebook = json.loads(path.read_text(encoding="utf-8"))
    for cell in notebook["cells"]:
        role = cell["metadata"].get("nfcourse", {})
        if role.get("role") == "solution" and role["task"] in (replace or {}):
            old, new = replace[role["task"]]
            source = "".join(cell["source"])
            assert old is None or old in source, (role["task"], old)
            cell["source"] = new if old is None else source.replace(old, new)
    return notebook


def write_notebook(notebook: dict, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(notebook, ensure_ascii=False), encoding="utf-8")
    return path


def answers(lesson: str, variant: str = "solution", replace: tuple[str, str] | None = None) -> dict[str, object]:
    source = read(next(LESSONS.glob(f"{lesson}_*")) / "sheet.py")
    namespace: dict[str, object] = {}
    for cell in source.cells:
        if cell.kind != "code" or cell.is_check or cell.key == "points-code":
            continue
        code = stub(cell.source) if variant == "blank" and cell.is_task else cell.source
        if replace is not None and cell.is_task:
            code = code.replace(*replace)
        exec(compile(code, f"{source.path}:{cell.key}", "exec"), namespace)
    return namespace
