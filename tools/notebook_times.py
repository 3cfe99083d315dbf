"""Run notebooks the way a learner would and print how long each takes: a table, not a test.

    python -m tools.notebook_times                    every generated notebook, fast mode
    python -m tools.notebook_times --full notebooks/en/00_recap.ipynb

Each notebook runs in a fresh kernel (nbclient) from its own folder, with NFCOURSE_FAST set for fast
mode and unset for full mode; a cell that raises stops that notebook and is reported as "failed".
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from tools.build import OUTPUTS
from tools.lessons import ROOT


def run(path: Path, full: bool) -> tuple[float, str]:
    """Seconds to run the notebook at `path` top to bottom, and "ok" or "failed: ..."."""
    notebook = nbformat.read(path, as_version=4)
    previous = os.environ.pop("NFCOURSE_FAST", None)
    if not full:
        os.environ["NFCOURSE_FAST"] = "1"
    start = time.perf_counter()
    try:
        NotebookClient(
            notebook, timeout=1800, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
        ).execute()
        status = "ok"
    except CellExecutionError as error:
        status = "failed: " + str(error).strip().splitlines()[-1][:80]
    finally:
        os.environ.pop("NFCOURSE_FAST", None)
        if previous is not None:
            os.environ["NFCOURSE_FAST"] = previous
    return time.perf_counter() - start, status


def main() -> int:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("notebooks", nargs="*", type=Path, help="notebooks to run (default: every generated one)")
    options.add_argument("--full", action="store_true", help="full mode (NFCOURSE_FAST unset) instead of fast mode")
    args = options.parse_args()
    missing = [str(path) for path in args.notebooks if path.suffix != ".ipynb" or not path.is_file()]
    if missing:
        options.error(f"not a notebook file: {', '.join(missing)}")
    paths = [path.resolve() for path in args.notebooks]
    paths = paths or sorted(p for kind in OUTPUTS for p in (ROOT / kind).glob("*/*.ipynb"))
    print("| notebook | mode | seconds | result |\n|---|---|---:|---|", flush=True)
    failed = False
    for path in paths:
        seconds, status = run(path, args.full)
        failed |= status != "ok"
        mode = "full" if args.full else "fast"
        print(f"| {path.relative_to(ROOT)} | {mode} | {seconds:.1f} | {status} |", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
