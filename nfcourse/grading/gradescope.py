"""Gradescope: an autograder bundle for one sheet, and the step that runs inside Gradescope.

`nfcourse gradescope 00_recap --out autograder.zip` writes a zip with
    setup.sh        installs bubblewrap, torch (CPU) and this package on Gradescope's Ubuntu image
    run_autograder  grades the notebook in /autograder/submission into /autograder/results/results.json
    nfcourse/, pyproject.toml, README.md   the package itself
`run_autograder` reads AUTOGRADER_ROOT (default /autograder) and NFCOURSE_PYTHON (default python3), so a
test can run it against a temporary folder laid out as Gradescope lays it out.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

from nfcourse.grading.grader import grade
from nfcourse.grading.report import gradescope as gradescope_json
from nfcourse.grading.sheets import sheet

PACKAGE = Path(__file__).resolve().parents[1]

SETUP = """#!/usr/bin/env bash
# Gradescope runs this once when it builds the autograder image.
set -euo pipefail
apt-get update
apt-get install -y python3 python3-pip python3-venv bubblewrap
python3 -m venv /opt/nfcourse
# Gradescope has no GPU: pass pip the arguments for PyTorch's CPU-only build in TORCH_PIP_ARGS to save gigabytes.
/opt/nfcourse/bin/pip install ${TORCH_PIP_ARGS:-torch}
/opt/nfcourse/bin/pip install /autograder/source
"""

RUN = """#!/usr/bin/env bash
# Gradescope runs this for every submission.
set -uo pipefail
root="${{AUTOGRADER_ROOT:-/autograder}}"
exec "${{NFCOURSE_PYTHON:-/opt/nfcourse/bin/python}}" -m nfcourse gradescope-run "$root" --lesson {lesson}
"""


def write_bundle(lesson: str, out: Path) -> Path:
    """Write the autograder zip for `lesson` (e.g. "00_recap") to `out`."""
    sheet(lesson)  # KeyError for a lesson without a sheet
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as bundle:
        for name, text in (("setup.sh", SETUP), ("run_autograder", RUN.format(lesson=lesson))):
            info = zipfile.ZipInfo(name)
            info.external_attr = 0o755 << 16
            bundle.writestr(info, text)
        for path in sorted(PACKAGE.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                bundle.write(path, path.relative_to(PACKAGE.parent))
        for name in ("pyproject.toml", "README.md"):
            bundle.write(PACKAGE.parent / name, name)
    return out


def run(root: Path, lesson: str) -> dict:
    """Grade the submitted notebook under `root/submission` and write `root/results/results.json`."""
    notebooks = sorted((root / "submission").rglob("*.ipynb"))
    notebooks = [path for path in notebooks if ".ipynb_checkpoints" not in path.parts]
    if len(notebooks) == 1:
        try:
            results = gradescope_json(grade(notebooks[0], lesson=lesson))
        except Exception as error:  # never leave Gradescope without a results.json
            message = f"The grader failed on this notebook ({type(error).__name__}: {error}); tell your instructor."
            results = {"score": 0, "output": message, "output_format": "text", "tests": []}
    else:
        found = ", ".join(path.name for path in notebooks) or "none"
        message = f"Submit exactly one notebook (.ipynb) of sheet {lesson}; found: {found}."
        results = {"score": 0, "output": message, "output_format": "text", "tests": []}
    (root / "results").mkdir(parents=True, exist_ok=True)
    (root / "results" / "results.json").write_text(json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8")
    return results
