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


def test_the_kernel_environment_sets_the_mode_and_threads_without_touching_this_process(monkeypatch) -> None:
    monkeypatch.setenv("NFCOURSE_FAST", "1")
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    full = notebook_times.kernel_environment(full=True, threads=4)
    assert "NFCOURSE_FAST" not in full and full["OMP_NUM_THREADS"] == "4"
    assert notebook_times.kernel_environment(full=False)["NFCOURSE_FAST"] == "1"
    monkeypatch.setenv("OMP_NUM_THREADS", "2")
    assert notebook_times.kernel_environment(full=True, threads=4)["OMP_NUM_THREADS"] == "2"  # a choice made kept
    assert __import__("os").environ["NFCOURSE_FAST"] == "1"


def test_jobs_run_every_notebook_and_out_keeps_the_table_in_the_given_order(monkeypatch, tmp_path: Path) -> None:
    slow = write_notebook(tmp_path / "slow.ipynb", "import time\ntime.sleep(3)")
    broken = write_notebook(tmp_path / "broken.ipynb", "raise ValueError('on purpose')")
    out = tmp_path / "times" / "table.md"
    monkeypatch.setattr(sys, "argv", ["notebook_times", str(slow), str(broken), "--jobs", "2", "--out", str(out)])
    assert notebook_times.main() == 1  # one notebook failed
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("Notebooks in fast mode on: ")
    rows = [line for line in lines if line.startswith(f"| {tmp_path}")]
    assert [row.split(" | ")[0] for row in rows] == [f"| {slow}", f"| {broken}"]
    assert rows[0].endswith("| ok |") and "on purpose" in rows[1]
    assert float(rows[0].split(" | ")[2]) >= 3


def test_jobs_below_one_is_a_usage_error(monkeypatch, capsys) -> None:
    monkeypatch.setattr(sys, "argv", ["notebook_times", "--jobs", "0"])
    with pytest.raises(SystemExit) as stop:
        notebook_times.main()
    assert stop.value.code == 2 and "--jobs" in capsys.readouterr().err
