"""Reading a submitted notebook without running it: which sheet it is, in which language, and its answers.

The grader never trusts a submission's structure. It reads the bytes once (so the file can change or vanish
afterwards without effect), parses them with nbformat, and looks for each official solution cell by its id
(or by nbgrader's `grade_id`, which survives tools that renumber cells). Everything else in the notebook,
including its copy of the official code and its own metadata about tasks and points, is ignored.
"""

from __future__ import annotations

import hashlib
import json
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from nfcourse.grading.exchange import ExchangeError, read_regular
from nfcourse.grading.sheets import lessons, sheet
from nfcourse.i18n import N_

MAX_NOTEBOOK_BYTES = 20 * 2**20
LANGUAGES = ("en", "de", "ja")


class Unreadable(ValueError):  # noqa: N818 (a verdict on the file, shown to the learner)
    """The file is not a notebook the grader can read; `message` is English (translated by the report)."""

    def __init__(self, message: str, **details: object) -> None:
        super().__init__(message)
        self.message, self.details = message, details


@dataclass
class Submission:
    path: Path
    digest: str  # sha256 of the bytes that were graded
    lesson: str
    language: str
    cells: dict[str, list[str]] = field(default_factory=dict)  # official cell id -> sources found for it


def read_bytes(path: Path) -> bytes:
    """The file's bytes, read once; only a regular file (no link, device or pipe) of at most 20 MB."""
    try:
        return read_regular(path, MAX_NOTEBOOK_BYTES)
    except ExchangeError as error:
        raise Unreadable(N_("The file cannot be graded: {error}"), error=str(error)) from error


def parse(data: bytes) -> nbformat.NotebookNode:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise Unreadable(
            N_("The file is not UTF-8 text (byte {position}); save it from Jupyter again."), position=error.start
        ) from error
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # nbformat warns about (and renames) duplicate cell ids
            notebook = nbformat.reads(text, as_version=4)
    except (json.JSONDecodeError, nbformat.reader.NotJSONError) as error:
        raise Unreadable(
            N_("The file is not valid JSON, so it is not a notebook: {error}"), error=str(error)[:200]
        ) from error
    except Exception as error:  # nbformat rejects what it cannot upgrade to version 4
        raise Unreadable(N_("The file is not a Jupyter notebook: {error}"), error=str(error)[:200]) from error
    if not isinstance(notebook.get("cells"), list):
        raise Unreadable(N_("The file is not a Jupyter notebook: {error}"), error="no list of cells")
    return notebook


def cell_keys(cell: dict) -> set[str]:
    """The names a cell goes by: its id and its nbgrader grade_id."""
    keys = {cell.get("id")}
    nbgrader = cell.get("metadata", {}).get("nbgrader")
    if isinstance(nbgrader, dict):
        keys.add(nbgrader.get("grade_id"))
    return {key for key in keys if isinstance(key, str)}


def guess_lesson(notebook: dict, official: list[str]) -> str:
    """The lesson named in the metadata if it is one, else the one whose solution cells the notebook has."""
    named = notebook.get("metadata", {}).get("nfcourse", {})
    if isinstance(named, dict) and named.get("lesson") in official:
        return named["lesson"]
    keys = set().union(*(cell_keys(cell) for cell in notebook["cells"])) if notebook["cells"] else set()
    for lesson in official:
        solution_ids = {cell.id for cell in sheet(lesson).cells if cell.task}
        if solution_ids & keys:
            return lesson
    raise Unreadable(
        N_("This notebook is not one of the course's exercise sheets ({known})."), known=", ".join(official)
    )


def read_submission(path: Path, lesson: str | None = None, language: str | None = None) -> Submission:
    """Read and parse `path`; `Unreadable` says why if it cannot be graded at all."""
    data = read_bytes(path)
    digest = hashlib.sha256(data).hexdigest()
    official = lessons()
    if lesson is not None and lesson not in official:
        raise ValueError(f"unknown lesson {lesson!r}; the graded ones are {', '.join(official)}")
    try:
        notebook = parse(data)
        lesson = lesson or guess_lesson(notebook, official)
    except Unreadable as error:
        error.details["digest"] = digest
        raise
    named = notebook.get("metadata", {}).get("nfcourse", {})
    named_language = named.get("language") if isinstance(named, dict) else None
    language = language or (named_language if named_language in LANGUAGES else "en")
    wanted = {cell.id for cell in sheet(lesson).cells if cell.task}
    cells: dict[str, list[str]] = {key: [] for key in wanted}
    for cell in notebook["cells"]:
        if cell.get("cell_type") != "code":
            continue
        for key in cell_keys(cell) & wanted:
            source = cell.get("source", "")
            cells[key].append("".join(source) if isinstance(source, list) else str(source))
    return Submission(path, digest, lesson, language, cells)
