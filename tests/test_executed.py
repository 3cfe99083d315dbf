"""Executed notebooks for the website: nbval's run saves them (conftest.py), the site build reuses current ones
and runs only the missing or stale ones (tools.site.outputs), and a failing notebook stops it by name."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from tools import executed
from tools.site import outputs

ROOT = Path(__file__).resolve().parents[1]


def write_notebook(path: Path, *sources: str) -> Path:
    cells = [nbformat.v4.new_markdown_cell("# A title")] + [nbformat.v4.new_code_cell(code) for code in sources]
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nbformat.v4.new_notebook(cells=cells), path)
    return path


def run_nbval(repository: Path, notebook: Path, fast: bool) -> subprocess.CompletedProcess:
    """pytest with nbval and the repository's conftest.py on a notebook inside `repository` (its root folder)."""
    shutil.copy(ROOT / "conftest.py", repository / "conftest.py")
    env = {key: value for key, value in os.environ.items() if key != "NFCOURSE_FAST"}
    env |= {"PYTHONPATH": str(ROOT), **({"NFCOURSE_FAST": "1"} if fast else {})}
    command = [sys.executable, "-m", "pytest", "--nbval-lax", "--nbval-current-env", "-p", "no:cacheprovider"]
    return subprocess.run([*command, str(notebook)], cwd=repository, env=env, capture_output=True, text=True)


def test_outputs_fill_the_code_cells_in_order_and_the_metadata_names_mode_and_cells() -> None:
    notebook = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell("1"), nbformat.v4.new_markdown_cell("text"), nbformat.v4.new_code_cell("2")]
    )
    first = [{"output_type": "stream", "name": "stdout", "text": "one\n"}]
    second = [{"output_type": "execute_result", "data": {"text/plain": "2"}, "metadata": {}, "execution_count": 9}]
    filled = executed.with_outputs(notebook, [first, second], "fast")
    nbformat.validate(filled)
    assert [cell.get("outputs") for cell in filled.cells] == [first, None, [{**second[0], "execution_count": 2}]]
    assert filled.metadata[executed.METADATA_KEY] == {"mode": "fast", "cells_sha256": executed.cells_hash(notebook)}
    assert notebook.cells[0].outputs == []  # the source is left alone
    with pytest.raises(ValueError, match="2 code cells"):
        executed.with_outputs(notebook, [first], "fast")


def test_a_copy_is_current_only_for_the_same_cells_and_mode(tmp_path: Path) -> None:
    source = write_notebook(tmp_path / "notebooks" / "en" / "demo.ipynb", "print(1)")
    run = executed.with_outputs(nbformat.read(source, as_version=4), [[]], "fast")
    path = executed.write(source, run, tmp_path)
    assert path == tmp_path / "build" / "executed" / "fast" / "notebooks" / "en" / "demo.ipynb"
    assert executed.read_current(source, "fast", tmp_path) is not None
    assert executed.read_current(source, "full", tmp_path) is None
    os.utime(source)  # a newer file with the same cells is still current: the hash decides, not the time
    assert executed.read_current(source, "fast", tmp_path) is not None
    write_notebook(source, "print(2)")
    assert executed.read_current(source, "fast", tmp_path) is None


@pytest.mark.parametrize("fast", [True, False])
def test_nbval_saves_the_notebook_with_its_outputs_once_its_last_cell_passed(tmp_path: Path, fast: bool) -> None:
    notebook = write_notebook(tmp_path / "solutions" / "en" / "demo.ipynb", "print('first')", "21 * 2")
    result = run_nbval(tmp_path, notebook, fast)
    assert result.returncode == 0, result.stdout
    mode = "fast" if fast else "full"
    saved = executed.read_current(notebook, mode, tmp_path)
    assert saved is not None
    code = [cell for cell in saved.cells if cell.cell_type == "code"]
    assert code[0].outputs[0]["text"] == "first\n"
    assert code[1].outputs[0]["data"]["text/plain"] == "42"


def test_a_failing_cell_saves_nothing_and_removes_an_earlier_copy(tmp_path: Path) -> None:
    notebook = write_notebook(tmp_path / "notebooks" / "en" / "demo.ipynb", "x = 1", "print(x)")
    assert run_nbval(tmp_path, notebook, fast=True).returncode == 0
    assert executed.path_for(notebook, "fast", tmp_path).is_file()
    write_notebook(notebook, "x = 1", "raise RuntimeError('broken')", "print(x)")
    assert run_nbval(tmp_path, notebook, fast=True).returncode != 0
    assert not executed.path_for(notebook, "fast", tmp_path).exists()


def test_the_site_runs_only_the_notebooks_without_a_current_copy(tmp_path: Path, monkeypatch) -> None:
    current = write_notebook(tmp_path / "notebooks" / "en" / "a.ipynb", "1")
    stale = write_notebook(tmp_path / "notebooks" / "de" / "a.ipynb", "1")
    missing = write_notebook(tmp_path / "notebooks" / "ja" / "a.ipynb", "1")
    for path in (current, stale):
        executed.write(path, executed.with_outputs(nbformat.read(path, as_version=4), [[]], "fast"), tmp_path)
    write_notebook(stale, "2")
    ran = []

    def execute(path: Path, full: bool, threads: int) -> nbformat.NotebookNode:
        ran.append((path, full))
        return nbformat.read(path, as_version=4)

    monkeypatch.setattr(outputs, "execute", execute)
    notebooks = outputs.executed_notebooks([current, stale, missing], "fast", jobs=2, repository=tmp_path)
    assert sorted(ran) == sorted([(stale, False), (missing, False)])
    assert set(notebooks) == {current, stale, missing}
    assert executed.read_current(missing, "fast", tmp_path) is not None  # saved for the next build


def test_a_notebook_that_fails_stops_the_site_build_with_its_name(tmp_path: Path) -> None:
    broken = write_notebook(tmp_path / "exercises" / "de" / "b.ipynb", "raise ValueError('no good')")
    with pytest.raises(outputs.NotebookError, match=r"b\.ipynb failed in fast mode(.|\n)*no good"):
        outputs.executed_notebooks([broken], "fast", jobs=1, repository=tmp_path)
