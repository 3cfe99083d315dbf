"""How long grading takes: one sheet, and a folder of 100 submissions (a benchmark, not a test).

    python -m benchmarks.grading [--submissions 100] [--jobs N]

Prints a table: the time to grade one solved and one blank sheet, what one sheet's time is made of
(starting the sandboxed Python and importing torch there, versus running the cells and judging), and the
wall time for a folder of submissions graded in parallel, with the throughput.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from nfcourse.grading.batch import grade_folder
from nfcourse.grading.grader import grade
from nfcourse.grading.isolation import isolation, launcher, prepare_work, sandbox_prefix
from nfcourse.grading.sandbox import Limits
from tools.lessons import ROOT

VARIANTS = [("solutions", "en"), ("exercises", "de"), ("solutions", "ja"), ("exercises", "en"), ("solutions", "de")]


def seconds(action: object) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def sandbox_start(folder: Path) -> float:
    """Starting the sandboxed interpreter and importing torch and the checks in it, nothing else."""
    job = Path(tempfile.mkdtemp(dir=folder))
    os.chmod(job, 0o755)
    (job / "inputs").mkdir(mode=0o755)
    prepare_work(job / "work")
    how = isolation()
    argv = [
        *launcher(how),
        *sandbox_prefix(how, job, Limits().disk_bytes),
        sys.executable,
        "-I",
        "-c",
        "import torch, nfcourse.checks",
    ]
    return seconds(lambda: subprocess.run(argv, check=True, cwd="/"))


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--submissions", type=int, default=100)
    options.add_argument("--jobs", type=int, default=os.cpu_count())
    args = options.parse_args()
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        solved, blank = ROOT / "solutions/en/00_recap.ipynb", ROOT / "exercises/en/00_recap.ipynb"
        grade(solved)  # warm the file cache and the isolation probe
        one_solved = min(seconds(lambda: grade(solved)) for _ in range(3))
        one_blank = min(seconds(lambda: grade(blank)) for _ in range(3))
        start = min(sandbox_start(folder) for _ in range(3))
        submissions = folder / "submitted"
        for number in range(args.submissions):
            kind, language = VARIANTS[number % len(VARIANTS)]
            notebook = json.loads((ROOT / kind / language / "00_recap.ipynb").read_text(encoding="utf-8"))
            target = submissions / f"student{number:03d}" / "00_recap.ipynb"
            target.parent.mkdir(parents=True)
            target.write_text(json.dumps(notebook), encoding="utf-8")
        batch = seconds(lambda: grade_folder(submissions, folder / "grades", jobs=args.jobs))
        rerun = seconds(lambda: grade_folder(submissions, folder / "grades", jobs=args.jobs))
    rows = [
        ("one solved sheet (4 tasks)", f"{one_solved:.2f} s"),
        ("one blank sheet", f"{one_blank:.2f} s"),
        ("sandbox start + import torch alone", f"{start:.2f} s"),
        (f"{args.submissions} submissions, {args.jobs} at a time", f"{batch:.1f} s"),
        ("  per submission", f"{batch / args.submissions:.2f} s"),
        ("  rerun (all already graded)", f"{rerun:.2f} s"),
    ]
    print(f"isolation: {isolation()}, CPUs: {os.cpu_count()}")
    print("| measurement | time |\n|---|---:|")
    for name, value in rows:
        print(f"| {name} | {value} |")


if __name__ == "__main__":
    main()
