"""Reading the lesson sources: lessons/NN_slug/{lecture,sheet}.py in jupytext's percent format.

Every cell carries a `key` (see lessons/README.md). This module reads a source into plain cells,
checks the keys, and finds the parts the build and the translations need: markdown prose, task
cells with their solution regions and docstrings, and self-check cells with their task ids.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from pathlib import Path

import jupytext

ROOT = Path(__file__).resolve().parents[1]
LESSONS = ROOT / "lessons"
LANGUAGES = ("en", "de", "ja")
LANGUAGE_NAMES = {"en": "English", "de": "Deutsch", "ja": "日本語"}  # each in its own language
TRANSLATED = ("de", "ja")
SOURCES = ("lecture", "sheet")
OUTPUTS = {"notebooks": "lecture", "exercises": "sheet", "solutions": "sheet"}  # generated folder -> source
KEY = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
CHECK_CALL = re.compile(r'^check\("(?P<task>[0-9]{2}\.[a-z0-9_]+)",\s*(?P<answer>\w+)\)\s*$')
BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"


class SourceError(ValueError):
    """A lesson source breaks a rule of lessons/README.md; the message names the file and cell."""


@dataclass(frozen=True)
class Cell:
    key: str
    kind: str  # "markdown" or "code"
    source: str
    tags: tuple[str, ...] = ()

    @property
    def is_task(self) -> bool:
        return "task" in self.tags

    @property
    def is_check(self) -> bool:
        return "check" in self.tags


@dataclass(frozen=True)
class Source:
    lesson: str  # "00_recap"
    name: str  # "lecture" or "sheet"
    path: Path
    cells: list[Cell] = field(repr=False)

    @property
    def number(self) -> str:
        return self.lesson[:2]

    def cell(self, key: str) -> Cell:
        return next(cell for cell in self.cells if cell.key == key)


def lesson_folders() -> list[Path]:
    """Every lesson folder, in course order."""
    return sorted(path for path in LESSONS.iterdir() if path.is_dir() and re.match(r"^\d\d_", path.name))


def read(path: Path) -> Source:
    """Read one source file and check its keys, tags and solution markers."""
    notebook = jupytext.read(path, fmt="py:percent")
    cells, seen = [], set()
    for index, raw in enumerate(notebook.cells, start=1):
        key = raw.metadata.get("key")
        where = f"{path.relative_to(ROOT)}, cell {index}"
        if not isinstance(key, str) or not KEY.match(key):
            raise SourceError(f"{where}: every cell needs key=\"...\" (lower-case letters, digits, '-'), got {key!r}")
        if key in seen:
            raise SourceError(f"{where}: the key {key!r} is used twice")
        seen.add(key)
        cell = Cell(key, raw.cell_type, raw.source, tuple(raw.metadata.get("tags", ())))
        if cell.is_task and (BEGIN not in cell.source or END not in cell.source):
            raise SourceError(f"{where}: a task cell needs a {BEGIN} ... {END} region")
        if cell.is_check and not CHECK_CALL.match(cell.source.strip()):
            raise SourceError(f'{where}: a check cell is one line, check("NN.task", answer_name)')
        cells.append(cell)
    return Source(path.parent.name, path.stem, path, cells)


def sources(folder: Path) -> list[Source]:
    return [read(folder / f"{name}.py") for name in SOURCES if (folder / f"{name}.py").exists()]


def check_task(cell: Cell) -> tuple[str, str]:
    """(task id, answer name) of a self-check cell."""
    match = CHECK_CALL.match(cell.source.strip())
    assert match is not None
    return match["task"], match["answer"]


def docstring(cell: Cell) -> str | None:
    """The docstring of the function or class a task cell defines (translated with the sheet)."""
    for node in ast.parse(cell.source).body:
        if isinstance(node, ast.FunctionDef | ast.ClassDef):
            return ast.get_docstring(node, clean=False)
    return None


def stub(code: str) -> str:
    """The exercise version of a task cell: each solution region becomes `raise NotImplementedError`."""
    out, inside = [], False
    for line in code.splitlines():
        stripped = line.strip()
        if stripped == BEGIN:
            inside = True
            indent = line[: len(line) - len(line.lstrip())]
            out.append(f"{indent}# YOUR CODE HERE")
            out.append(f"{indent}raise NotImplementedError")
        elif stripped == END:
            inside = False
        elif not inside:
            out.append(line)
    return "\n".join(out)


def goals(markdown: str) -> tuple[list[str], int | None]:
    """The bullet points of a goals cell and the minutes of its closing `*Time: about N minutes.*` line."""
    bullets: list[str] = []
    for line in markdown.splitlines():
        if line.startswith("- "):
            bullets.append(line[2:].strip())
        elif bullets and line.startswith("  "):  # a bullet continued on the next line
            bullets[-1] += " " + line.strip()
    minutes = re.search(r"(\d+)", markdown.strip().splitlines()[-1])
    return bullets, int(minutes[1]) if minutes else None
