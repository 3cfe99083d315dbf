"""Run notebooks the way a learner would and print how long each takes: a table, not a test.

    python -m tools.notebook_times                    every generated notebook, fast mode
    python -m tools.notebook_times --full notebooks/en/00_recap.ipynb
    python -m tools.notebook_times --full --jobs 8 --out times.md notebooks/*/*.ipynb solutions/*/*.ipynb

Each notebook runs in a fresh kernel (nbclient) from its own folder, with NFCOURSE_FAST set in the kernel's
environment for fast mode and unset for full mode; a cell that raises stops that notebook and is reported as
"failed". `--jobs N` runs N kernels at once (rows are printed as notebooks finish, the table in `--out` in the
order given), each kernel with `OMP_NUM_THREADS` threads (default: the machine's cores divided by N). The
first line says where PyTorch computes (the GPU's name, or the CPU).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import torch
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from tools.build import OUTPUTS
from tools.lessons import ROOT


def kernel_environment(full: bool, threads: int | None = None) -> dict[str, str]:
    """This process's environment with NFCOURSE_FAST set (fast mode) or removed (full mode), and, if given,
    `threads` as OMP_NUM_THREADS (unless that is set already)."""
    environment = {name: value for name, value in os.environ.items() if name != "NFCOURSE_FAST"}
    if not full:
        environment["NFCOURSE_FAST"] = "1"
    if threads is not None:
        environment.setdefault("OMP_NUM_THREADS", str(threads))
    return environment


def execute(path: Path, full: bool, threads: int | None = None) -> nbformat.NotebookNode:
    """The notebook at `path` run top to bottom in a fresh kernel from its own folder, with its outputs.

    Raises nbclient's `CellExecutionError` when a cell raises.
    """
    notebook = nbformat.read(path, as_version=4)
    NotebookClient(
        notebook, timeout=1800, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    ).execute(env=kernel_environment(full, threads))
    return notebook


def run(path: Path, full: bool, threads: int | None = None) -> tuple[float, str]:
    """Seconds to run the notebook at `path` top to bottom, and "ok" or "failed: ..."."""
    start = time.perf_counter()
    try:
        execute(path, full, threads)
        status = "ok"
    except CellExecutionError as error:
        status = "failed: " + str(error).strip().splitlines()[-1][:80]
    return time.perf_counter() - start, status


def shown(path: Path) -> str:
    """The path relative to the repository where it lies inside it, else as it is."""
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def compute_device() -> str:
    """Where the notebooks' PyTorch computes: the GPU's name, or "CPU"."""
    return torch.cuda.get_device_name() if torch.cuda.is_available() else "CPU"


def main() -> int:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("notebooks", nargs="*", type=Path, help="notebooks to run (default: every generated one)")
    options.add_argument("--full", action="store_true", help="full mode (NFCOURSE_FAST unset) instead of fast mode")
    options.add_argument("--jobs", type=int, default=1, help="notebooks run at once (default 1)")
    options.add_argument("--out", type=Path, help="also write the table to this Markdown file")
    args = options.parse_args()
    missing = [str(path) for path in args.notebooks if path.suffix != ".ipynb" or not path.is_file()]
    if missing:
        options.error(f"not a notebook file: {', '.join(missing)}")
    if args.jobs < 1:
        options.error("--jobs must be at least 1")
    paths = [path.resolve() for path in args.notebooks]
    paths = paths or sorted(p for kind in OUTPUTS for p in (ROOT / kind).glob("*/*.ipynb"))
    mode = "full" if args.full else "fast"
    threads = max(1, (os.cpu_count() or 1) // args.jobs) if args.jobs > 1 else None
    header = (
        f"Notebooks in {mode} mode on: {compute_device()}\n\n| notebook | mode | seconds | result |\n|---|---|---:|---|"
    )
    print(header, flush=True)

    def row(path: Path) -> str:
        seconds, status = run(path, args.full, threads)
        line = f"| {shown(path)} | {mode} | {seconds:.1f} | {status} |"
        print(line, flush=True)
        return line

    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        rows = list(pool.map(row, paths))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(header + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return 0 if all(line.endswith("| ok |") for line in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
