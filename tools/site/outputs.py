"""The executed notebooks the site shows: reused from the last test run where they still match, else run now.

`python3 course.py test` leaves every notebook it ran in build/executed/<mode>/ (`tools.executed`). Here
each generated notebook's copy is taken when it matches the notebook's cells and the mode; the others run
with nbclient (`tools.notebook_times.execute`), several kernels at once with one PyTorch thread each, and
are saved there too. A notebook that fails stops the build with its name and its error.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

import nbformat
from nbclient.exceptions import CellExecutionError

from tools import executed
from tools.lessons import LANGUAGES, OUTPUTS, ROOT
from tools.notebook_times import execute, shown


class NotebookError(RuntimeError):
    """A notebook raised while it ran for the site; the message names it and quotes the error."""


def generated_notebooks(root: Path = ROOT) -> list[Path]:
    """Every generated notebook: lectures, exercise sheets and solved sheets in every language."""
    return sorted(path for kind in OUTPUTS for lang in LANGUAGES for path in (root / kind / lang).glob("*.ipynb"))


def run(path: Path, mode: str, threads: int, repository: Path) -> nbformat.NotebookNode:
    try:
        notebook = execute(path, full=mode == "full", threads=threads)
    except CellExecutionError as error:
        raise NotebookError(f"{shown(path)} failed in {mode} mode:\n{str(error).strip()}") from error
    executed.write(path, executed.stamped(notebook, mode), repository)
    return notebook


def executed_notebooks(
    paths: list[Path], mode: str, jobs: int | None = None, repository: Path = ROOT
) -> dict[Path, nbformat.NotebookNode]:
    """Each notebook of `paths` (files in `repository`) with outputs from a run in `mode`, running only those
    without a current copy."""
    ready = {path: executed.read_current(path, mode, repository) for path in paths}
    missing = [path for path, notebook in ready.items() if notebook is None]
    jobs = jobs or os.cpu_count() or 1
    print(
        f"{len(paths) - len(missing)} of {len(paths)} notebooks ran in {mode} mode since they last changed; "
        f"running {len(missing)} ({jobs} at once)",
        flush=True,
    )
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = {
            pool.submit(run, path, mode, max(1, (os.cpu_count() or 1) // jobs), repository): path for path in missing
        }
        try:
            for future in as_completed(futures):
                ready[futures[future]] = future.result()
                print(f"  ran {shown(futures[future])}", flush=True)
        except NotebookError:
            pool.shutdown(wait=False, cancel_futures=True)
            raise
    return ready
