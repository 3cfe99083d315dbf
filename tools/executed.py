"""Executed notebooks: a generated notebook together with the outputs of one run, kept for the website.

    build/executed/<mode>/<path in the repository>      e.g. build/executed/fast/notebooks/de/00_recap.ipynb

Every nbval run writes one for each notebook whose code cells all ran and passed (`conftest.py`), and
`python3 course.py site` runs only the notebooks whose executed copy is missing or stale. The mode is "fast"
when `NFCOURSE_FAST` is on (`nfcourse.runtime.is_fast_mode`), else "full". A copy is current when its
metadata names that mode and the hash of the cells it was run from equals the hash of the source's cells
now: a hash of what the cells say, not a timestamp, so a rebuilt but unchanged notebook stays current. The
library's code is not part of the hash; run the tests (or delete `build/executed/`) after changing it.
"""

from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path

import nbformat

from nfcourse.runtime import is_fast_mode
from tools.lessons import ROOT

FOLDER = Path("build") / "executed"  # in the repository
MODES = ("fast", "full")
METADATA_KEY = "nfcourse_executed"


def current_mode() -> str:
    """The mode this process (and a kernel that inherits its environment) runs in: "fast" or "full"."""
    return "fast" if is_fast_mode() else "full"


def path_for(source: Path, mode: str, repository: Path = ROOT) -> Path:
    """Where the executed copy of the notebook `source`, a file inside `repository`, lies for `mode`."""
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}: choose one of {', '.join(MODES)}")
    return repository / FOLDER / mode / source.resolve().relative_to(repository.resolve())


def cells_hash(notebook: nbformat.NotebookNode) -> str:
    """SHA-256 of the cells' kinds and sources: what decides the outputs, apart from the library's code."""
    cells = [[cell.cell_type, cell.source] for cell in notebook.cells]
    return hashlib.sha256(json.dumps(cells, ensure_ascii=False).encode("utf-8")).hexdigest()


def with_outputs(notebook: nbformat.NotebookNode, outputs: list[list[dict]], mode: str) -> nbformat.NotebookNode:
    """A copy of `notebook` whose code cells, in order, hold `outputs`, with metadata naming the mode and source."""
    code_cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
    if len(outputs) != len(code_cells):
        raise ValueError(f"{len(outputs)} lists of outputs for {len(code_cells)} code cells")
    executed = copy.deepcopy(notebook)
    for count, (cell, cell_outputs) in enumerate(
        zip((c for c in executed.cells if c.cell_type == "code"), outputs, strict=True), start=1
    ):
        cell.outputs = [nbformat.from_dict(output) for output in cell_outputs]
        cell.execution_count = count
        for output in cell.outputs:
            if output.output_type == "execute_result":
                output.execution_count = count
    return stamped(executed, mode)


def stamped(executed: nbformat.NotebookNode, mode: str) -> nbformat.NotebookNode:
    """`executed` with metadata naming the mode it ran in and the hash of its cells (its outputs aside)."""
    executed.metadata[METADATA_KEY] = {"mode": mode, "cells_sha256": cells_hash(executed)}
    return executed


def write(source: Path, executed: nbformat.NotebookNode, repository: Path = ROOT) -> Path:
    """Save the executed copy of `source` (its metadata names the mode) and return its path."""
    path = path_for(source, executed.metadata[METADATA_KEY]["mode"], repository)
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(executed, path)
    return path


def discard(source: Path, mode: str, repository: Path = ROOT) -> None:
    """Remove the executed copy of `source` for `mode`, if any (its last run failed)."""
    path_for(source, mode, repository).unlink(missing_ok=True)


def read_current(source: Path, mode: str, repository: Path = ROOT) -> nbformat.NotebookNode | None:
    """The executed copy of `source` for `mode` if it was run from the cells `source` has now, else None."""
    path = path_for(source, mode, repository)
    if not path.is_file():
        return None
    executed = nbformat.read(path, as_version=4)
    stamp = executed.metadata.get(METADATA_KEY, {})
    current = cells_hash(nbformat.read(source, as_version=4))
    return executed if stamp.get("mode") == mode and stamp.get("cells_sha256") == current else None
