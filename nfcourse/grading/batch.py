"""Grading a folder of submissions: in parallel, with a progress bar, resumable, one file never stops the rest.

    results = grade_folder(Path("submitted"), Path("grades"))

Every `*.ipynb` under the folder (checkpoints excepted) is graded; its result is written at once to
`grades/<same relative path>.json` (atomically: a temporary file renamed into place), so an interrupted
batch keeps everything finished so far. A rerun skips a submission whose result matches the file's
current contents (its sha256), unless `force=True`.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

from tqdm.auto import tqdm

from nfcourse.grading.exchange import ExchangeError, read_regular
from nfcourse.grading.grader import FORMAT_VERSION, Result, grade
from nfcourse.grading.sandbox import protections
from nfcourse.grading.submission import MAX_NOTEBOOK_BYTES


def submissions(folder: Path, pattern: str = "**/*.ipynb") -> list[Path]:
    return sorted(path for path in folder.glob(pattern) if ".ipynb_checkpoints" not in path.parts)


def result_path(submission: Path, folder: Path, results: Path) -> Path:
    return results / submission.relative_to(folder).with_suffix(".json")


def previous(path: Path, submission: Path) -> Result | None:
    """The stored result of `submission` if it is for the same bytes and the current format."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        stored = Result.from_json(data)
    except (OSError, ValueError, TypeError, KeyError):
        return None
    try:
        current = hashlib.sha256(read_regular(submission, MAX_NOTEBOOK_BYTES)).hexdigest()
    except ExchangeError:
        return None
    return stored if stored.version == FORMAT_VERSION and stored.digest == current else None


def save(result: Result, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(f".{os.getpid()}.partial")
    partial.write_text(json.dumps(result.to_json(), ensure_ascii=False, indent=1), encoding="utf-8")
    partial.replace(path)


def grade_folder(
    folder: Path,
    results: Path,
    *,
    jobs: int | None = None,
    force: bool = False,
    pattern: str = "**/*.ipynb",
    grade_one: Callable[..., Result] = grade,
    **options: object,
) -> list[Result]:
    """Grade every notebook under `folder` (matching `pattern`) into `results/`; returns all results, old and new."""
    folder, results = folder.resolve(), results.resolve()
    found = submissions(folder, pattern)
    done, todo = [], []
    for submission in found:
        stored = None if force else previous(result_path(submission, folder, results), submission)
        (done if stored else todo).append(stored or submission)
    hidden = [folder, results, *options.pop("hidden", [])]
    jobs = jobs or max(1, (os.cpu_count() or 1))
    protections()  # probe the host once, before the threads start
    pool = ThreadPoolExecutor(jobs)
    try:
        with tqdm(total=len(found), initial=len(done), unit="notebook") as bar:
            futures = {pool.submit(grade_safely, grade_one, path, hidden=hidden, **options): path for path in todo}
            for future in as_completed(futures):
                result = future.result()
                save(result, result_path(futures[future], folder, results))
                done.append(result)
                bar.update()
    finally:  # on Ctrl-C: start nothing new; what finished is already saved
        pool.shutdown(wait=True, cancel_futures=True)
    return sorted(done, key=lambda result: result.submission)


def grade_safely(grade_one: Callable[..., Result], path: Path, **options: object) -> Result:
    """`grade_one(path)`, or a 0-point result naming the error if the grader itself failed on this file."""
    try:
        return grade_one(path, **options)
    except Exception as error:
        problem = f"The grader failed on this file: {type(error).__name__}: {error}"
        return Result(str(path), "", "", "en", 0, 0, [], problem=problem)
