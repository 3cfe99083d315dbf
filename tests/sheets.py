"""Answers for the self-check tests, taken from the lesson sources themselves.

`answers(lesson, variant)` executes the sheet's code cells the way a learner's notebook would: the solved
sheet (`"solution"`), the blank exercise sheet (`"blank"`), or the solved sheet with one text replacement
(a seeded mistake), and returns the namespace that holds the answers.
"""

from __future__ import annotations

from tools.lessons import LESSONS, read, stub


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
