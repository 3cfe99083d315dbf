"""Grading a folder of submissions: in parallel, with a progress bar, resumable, one file never stops the rest.

    results = grade_folder(Path("submitted"), Path("grades"))

Every `*.ipynb` under the folder (checkpoints excepted) is graded; its result is written as soon as it is
graded, to `grades/<same relative path>.json` (atomically: a temporary file renamed into place), so an
interrupted batch keeps everything finished so far. A rerun skips a submission whose result matches the
file's current contents (its sha256), unless `force=True`.

Whatever goes wrong with one file, while grading it or saving its result, becomes that file's 0-point
result naming the problem; the others go on. Every string is made storable before it is saved (a lone
surrogate in a message becomes "?"), and the folder is walked without recursion, so no file name, depth
or loop of links can stop the batch either.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import replace
from fnmatch import fnmatchcase
from pathlib import Path

from tqdm.auto import tqdm

from nfcourse.grading.exchange import read_regular
from nfcourse.grading.grader import FORMAT_VERSION, Result, grade
from nfcourse.grading.sandbox import protections
from nfcourse.grading.submission import MAX_NOTEBOOK_BYTES
from nfcourse.grading.untrusted import plain_text

MAX_RESULT_BYTES = 2**24  # a stored result larger than this is not one the grader wrote: grade again
MAX_STORED_TEXT = 100_000  # characters of one string in a stored result


def submissions(folder: Path, pattern: str = "**/*.ipynb") -> list[Path]:
    """The files under `folder` whose path below it matches `pattern` (`**` is any number of folders).

    Walked with a list of folders still to read, not recursion, and never through a link to a folder,
    so a tree of any depth, or links that loop, cannot stop it; a folder that cannot be read is skipped.
    """
    wanted = tuple(pattern.split("/"))
    found, pending = [], [folder]
    while pending:
        current = pending.pop()
        with contextlib.suppress(OSError), os.scandir(current) as entries:
            for entry in entries:
                path = Path(entry.path)
                if entry.is_dir(follow_symlinks=False):
                    if entry.name != ".ipynb_checkpoints":
                        pending.append(path)
                elif matches(path.relative_to(folder).parts, wanted):
                    found.append(path)
    return sorted(found)


def matches(parts: tuple[str, ...], pattern: tuple[str, ...]) -> bool:
    """True if the path `parts` match the glob `pattern`, part by part; `**` matches any number of parts.

    The set of pattern positions the parts so far can have reached, advanced one part at a time.
    """
    reached = skip_any(pattern, {0})
    for part in parts:
        stay = {i for i in reached if i < len(pattern) and pattern[i] == "**"}
        step = {i + 1 for i in reached if i < len(pattern) and pattern[i] != "**" and fnmatchcase(part, pattern[i])}
        reached = skip_any(pattern, stay | step)
    return len(pattern) in reached


def skip_any(pattern: tuple[str, ...], reached: set[int]) -> set[int]:
    """`reached` with the positions after each `**` that may match no part at all."""
    more = set(reached)
    for i in reached:
        while i < len(pattern) and pattern[i] == "**":
            i += 1
            more.add(i)
    return more


def result_path(submission: Path, folder: Path, results: Path) -> Path:
    return results / submission.relative_to(folder).with_suffix(".json")


def previous(path: Path, submission: Path) -> Result | None:
    """The stored result of `submission` if it is for the same bytes and the current format.

    None for anything else, a stored file that is missing, too large or malformed included: that
    submission is graded again.
    """
    try:
        stored = Result.from_json(json.loads(read_regular(path, MAX_RESULT_BYTES)))
        current = hashlib.sha256(read_regular(submission, MAX_NOTEBOOK_BYTES)).hexdigest()
    except Exception:  # ExchangeError, bad JSON, a wrong shape, JSON nested too deeply: grade it again
        return None
    if stored.version != FORMAT_VERSION or stored.digest != current:
        return None
    return replace(stored, submission=str(submission))  # where the file is now, if the folder was moved


def storable(value: object) -> object:
    """A result's JSON form with every string (keys too) made encodable, so that saving cannot fail on it."""
    if isinstance(value, str):
        return plain_text(value, MAX_STORED_TEXT)
    if isinstance(value, dict):
        return {storable(key): storable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [storable(item) for item in value]
    return value


def save(result: Result, path: Path) -> None:
    """Write `result` to `path` atomically: a temporary file beside it, renamed into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(f".{os.getpid()}.partial")
    try:
        text = json.dumps(storable(result.to_json()), ensure_ascii=False, indent=1)
        partial.write_text(text, encoding="utf-8")
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)


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
    jobs = jobs or max(1, (os.cpu_count() or 1))
    protections()  # probe the host once, before the threads start
    pool = ThreadPoolExecutor(jobs)
    try:
        with tqdm(total=len(found), initial=len(done), unit="notebook") as bar:
            futures = [
                pool.submit(graded, grade_one, path, result_path(path, folder, results), options) for path in todo
            ]
            for future in as_completed(futures):
                done.append(future.result())
                bar.update()
    finally:  # on Ctrl-C: start nothing new; the grades running finish and save themselves
        pool.shutdown(wait=True, cancel_futures=True)
    return sorted(done, key=lambda result: str(result.submission))


def graded(grade_one: Callable[..., Result], path: Path, target: Path, options: dict) -> Result:
    """Grade `path` and save its result to `target` at once; a failure of either is this file's result."""
    result = grade_safely(grade_one, path, **options)
    try:
        save(result, target)
    except Exception as error:  # an unwritable target, a value JSON cannot hold: this file only
        result = failed(path, "The grader could not save the result of this file", error)
        with contextlib.suppress(Exception):
            save(result, target)
    return result


def grade_safely(grade_one: Callable[..., Result], path: Path, **options: object) -> Result:
    """`grade_one(path)`, or a 0-point result naming the error if the grader itself failed on this file."""
    try:
        return grade_one(path, **options)
    except Exception as error:
        return failed(path, "The grader failed on this file", error)


def failed(path: Path, what: str, error: Exception) -> Result:
    """A 0-point result for `path` that says what failed and why (the error's text made printable)."""
    problem = f"{what}: {type(error).__name__}: {plain_text(error, 500)}"
    return Result(str(path), "", "", "en", 0, 0, [], problem=problem)
