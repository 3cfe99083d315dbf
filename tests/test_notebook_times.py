"""`python -m tools.notebook_times`: one row per notebook with its time and result, and a clear error for bad paths."""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
import pytest

from tools import notebook_times


def write_notebook(path: Path, code: str) -> Path:
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)])
    nbformat.write(notebook, path)
    return path


def test_a_notebook_that_runs_is_ok_and_one_that_raises_is_failed(tmp_path: Path) -> None:
    fine = write_notebook(tmp_path / "fine.ipynb", "import os\nassert os.environ['NFCOURSE_FAST'] == '1'")
    broken = write_notebook(tmp_path / "broken.ipynb", "raise ValueError('on purpose')")
    seconds, status = notebook_times.run(fine, full=False)
    assert status == "ok" and seconds > 0
    _seconds, status = notebook_times.run(broken, full=False)
    assert status.startswith("failed") and "on purpose" in status


def test_a_path_that_is_not_a_notebook_is_a_usage_error(monkeypatch, capsys, tmp_path: Path) -> None:
    monkeypatch.setattr(sys, "argv", ["notebook_times", str(tmp_path / "missing.ipynb"), "--full"])
    with pytest.raises(SystemExit) as stop:
        notebook_times.main()
    assert stop.value.code == 2
    assert "not a notebook file" in capsys.readouterr().err
