"""The Gradescope bundle: its scripts are valid, and run_autograder, run against a folder laid out as
Gradescope lays it out, writes a results.json that Gradescope accepts."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile

from sheets import sheet_notebook, write_notebook

from nfcourse.cli import main


def test_bundle_runs_and_writes_valid_results(tmp_path) -> None:
    bundle = tmp_path / "autograder.zip"
    assert main(["gradescope", "00_recap", "--out", str(bundle)]) == 0
    root = tmp_path / "autograder"
    with zipfile.ZipFile(bundle) as archive:
        names = set(archive.namelist())
        archive.extractall(root / "source")
    assert {"setup.sh", "run_autograder", "pyproject.toml", "nfcourse/grading/sheets/00_recap.json"} <= names
    for script in ("setup.sh", "run_autograder"):
        subprocess.run(["bash", "-n", str(root / "source" / script)], check=True)
    write_notebook(sheet_notebook("00", "ja"), root / "submission" / "sheet.ipynb")
    environment = {**os.environ, "AUTOGRADER_ROOT": str(root), "NFCOURSE_PYTHON": sys.executable}
    subprocess.run(["bash", str(root / "source" / "run_autograder")], env=environment, check=True, timeout=300)
    results = json.loads((root / "results" / "results.json").read_text(encoding="utf-8"))
    assert results["score"] == 12 == sum(test["score"] for test in results["tests"])
    assert [test["max_score"] for test in results["tests"]] == [2, 3, 4, 3]
    assert all(set(test) >= {"name", "score", "max_score", "output"} for test in results["tests"])
    assert all(test["output_format"] in ("text", "html", "md", "ansi", "simple_format") for test in results["tests"])


def test_no_notebook_gives_zero_and_says_why(tmp_path) -> None:
    (tmp_path / "submission").mkdir()
    (tmp_path / "submission" / "answers.py").write_text("print('hi')")
    assert main(["gradescope-run", str(tmp_path), "--lesson", "00_recap"]) == 0
    results = json.loads((tmp_path / "results" / "results.json").read_text(encoding="utf-8"))
    assert results["score"] == 0 and ".ipynb" in results["output"]
