"""Grading one submitted notebook: read it, run its answers in the sandbox, judge the plain results here.

    result = grade(Path("alice/00_recap.ipynb"))     # a `Result`; see report.py for its forms

The steps, and who does them:
  1. read and parse the file, find the solution cells by id                       (here; nothing runs)
  2. draw each task's inputs from the secret seed and write them as .npz          (here)
  3. run official code + solution cells, call each answer on its inputs           (the sandboxed worker)
  4. read the returned arrays, judge them with the task's checks, add up points   (here)
An item that hangs, crashes the process or floods the output is stopped; the worker is started again
for the remaining items, so one bad cell costs only its own task.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import torch

from nfcourse.checks.task import Part, Task
from nfcourse.grading.exchange import load_outputs, save_tensors
from nfcourse.grading.folders import remove_tree
from nfcourse.grading.isolation import unprivileged_ids
from nfcourse.grading.sandbox import Limits, Run, job_root, protections, run_worker, worker_limits
from nfcourse.grading.scan import dynamic_access, references_used, suspicious, unscannable
from nfcourse.grading.sheets import Sheet, sheet
from nfcourse.grading.submission import Submission, Unreadable, read_submission
from nfcourse.grading.untrusted import plain_text
from nfcourse.i18n import _, using_language

FORMAT_VERSION = 1
_language_lock = threading.Lock()  # messages are translated through one global language setting


@dataclass
class TaskResult:
    task: str
    title: str
    points: int
    earned: int
    parts: list[Part]
    flags: list[str] = field(default_factory=list)


@dataclass
class Result:
    """Everything a report needs, with every message already in the submission's language."""

    submission: str
    digest: str
    lesson: str
    language: str
    points: int
    earned: int
    tasks: list[TaskResult]
    problem: str = ""  # why the file could not be graded at all
    notes: list[str] = field(default_factory=list)  # what happened while running it
    flags: list[str] = field(default_factory=list)  # for the instructor
    protections: list[dict] = field(default_factory=list)
    seconds: float = 0.0
    version: int = FORMAT_VERSION

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> Result:
        tasks = [TaskResult(**{**task, "parts": [Part(**part) for part in task["parts"]]}) for task in data["tasks"]]
        return cls(**{**data, "tasks": tasks})


def secret_seed() -> bytes:
    """The grading secret: NFCOURSE_GRADING_SECRET if set (to reproduce a run), else fresh for this process."""
    return os.environ.get("NFCOURSE_GRADING_SECRET", "").encode() or _fresh_secret


_fresh_secret = secrets.token_bytes(32)


def task_generator(secret: bytes, digest: str, task_id: str) -> torch.Generator:
    """The generator of one task's inputs: secret, and different for every submission and task."""
    seed = hashlib.sha256(secret + digest.encode() + task_id.encode()).digest()
    return torch.Generator().manual_seed(int.from_bytes(seed[:8], "little"))


def plan(official: Sheet, submission: Submission) -> tuple[list[dict], dict[str, str]]:
    """The worker's items in notebook order, and why a task's solution cell cannot be run (cell id -> reason)."""
    items, problems = [], {}
    last_cell = {cell.task: cell.id for cell in official.cells if cell.task}
    for cell in official.cells:
        if not cell.task:
            items.append({"name": f"cell:{cell.id}", "source": cell.source})
            continue
        found = submission.cells.get(cell.id, [])
        if len(found) == 1:
            items.append({"name": f"cell:{cell.id}", "source": found[0]})
        else:
            problems[cell.id] = "missing" if not found else "duplicated"
        if last_cell[cell.task] == cell.id:
            items.append({"name": f"task:{cell.task}", "task": cell.task})
    return items, problems


def run_items(job: Path, items: list[dict], limits: Limits, language: str) -> tuple[dict[str, str], dict[str, dict]]:
    """Run the items in the sandbox: item -> "" (fine) or what went wrong, and task -> what its answer returned.

    An item that had to be stopped (time, crash, output) is left out when the worker is started again;
    the cells run again to rebuild the answers, the tasks already called do not.
    """
    outcome: dict[str, str] = {}
    returned: dict[str, dict] = {}
    stopped: set[str] = set()
    started = time.monotonic()
    while [item for item in items if item["name"] not in outcome]:
        todo = [
            item
            for item in items
            if item["name"] not in stopped and not (item["name"].startswith("task:") and item["name"] in outcome)
        ]
        remaining = limits.notebook_seconds - (time.monotonic() - started)
        if remaining <= 0:
            outcome |= {item["name"]: "notebook" for item in todo if item["name"] not in outcome}
            break
        job_limits = Limits(**{**asdict(limits), "notebook_seconds": remaining})
        job_text = json.dumps(
            {"items": todo, "language": language, "rlimits": worker_limits(job_limits), "user": unprivileged_ids()}
        )
        run = run_worker(job, job_text, job_limits)
        returned |= run.outputs
        before = set(outcome)
        outcome |= {event["end"]: describe_error(event.get("error")) for event in run.events if "end" in event}
        if run.killed_for in ("notebook", "output", "disk"):
            outcome[run.running or todo[0]["name"]] = run.killed_for
            outcome |= {item["name"]: f"unreached:{run.killed_for}" for item in todo if item["name"] not in outcome}
        elif run.running:
            outcome[run.running] = stopped_reason(run)
            stopped.add(run.running)
        elif not set(outcome) - before:  # it ended without getting further: another try would do the same
            outcome |= {item["name"]: stopped_reason(run) for item in todo if item["name"] not in outcome}
    return outcome, returned


def describe_error(error: object) -> str:
    """The event's error as "" (none) or "error:<json>"."""
    return "" if not error else "error:" + json.dumps(error)


def stopped_reason(run: Run) -> str:
    if run.killed_for:
        return run.killed_for
    if not run.events:  # the sandbox itself failed: say what it printed, for the instructor
        last = run.output.decode("utf-8", "replace").strip().splitlines()[-1:] or [""]
        return f"nostart:{run.returncode}:{plain_text(last[0], 200)}"
    return f"crashed:{run.returncode}"


def outcome_message(outcome: str) -> str:
    """A stopped or failed item in words (in the current language)."""
    try:
        return _outcome_message(outcome)
    except (ValueError, KeyError, TypeError):
        return _("It failed in a way the grader cannot describe.")


def _outcome_message(outcome: str) -> str:
    if outcome.startswith("unreached:"):
        return _("Not run: grading stopped at an earlier cell, which broke a limit ({limit}).").format(
            limit=outcome[10:]
        )
    if outcome.startswith("nostart:"):
        status, output = outcome[8:].split(":", 1)
        message = _("The grader could not start Python in its sandbox (exit status {status}): {output}")
        return message.format(status=status, output=output)
    if outcome == "disk":
        return _("It wrote more data than the limit and was stopped.")
    if outcome == "item":
        return _("It ran longer than its time limit and was stopped.")
    if outcome == "notebook":
        return _("The notebook as a whole ran longer than its time limit; this part was not reached.")
    if outcome == "output":
        return _("It printed more than the output limit and was stopped.")
    if outcome.startswith("crashed:"):
        return _("The Python process ended while running it (exit status {status}).").format(status=outcome[8:])
    error = json.loads(outcome[6:])
    where = _(" (line {line})").format(line=error["line"]) if error.get("line") else ""
    magic = ""
    if error["type"] == "SyntaxError" and error["message"].startswith("invalid syntax") and "%" in error["message"]:
        magic = " " + _("IPython magics (%...) do not run in the grader.")
    return f"{error['type']}{where}: {error['message']}{magic}"


def judge_task(
    task: Task, inputs: dict, returned: object, cells: list[str], problems: dict, outcome: dict
) -> list[Part]:
    """The parts of one task's verdict, from what the worker returned and what happened on the way."""

    def zero(name: str, message: str) -> list[Part]:
        return [Part(name, task.points, 0, message)]

    for cell in cells:
        if problems.get(cell) == "missing":
            return zero(
                _("solution cell"), _("The cell {cell} of this task is missing from the notebook.").format(cell=cell)
            )
        if problems.get(cell) == "duplicated":
            message = _("The notebook has more than one cell {cell}; keep exactly one.").format(cell=cell)
            return zero(_("solution cell"), message)
    cell_errors = [outcome_message(outcome[f"cell:{cell}"]) for cell in cells if outcome.get(f"cell:{cell}")]
    task_outcome = outcome.get(f"task:{task.id}", "notebook")
    if task_outcome:
        if task_outcome.startswith("error:") and json.loads(task_outcome[6:])["type"] == "missing":
            message = _("The notebook does not define {answer}.").format(answer=task.answer)
            if cell_errors:
                message += " " + _("Its cell failed: {error}").format(error=cell_errors[0])
            return zero(_("defines {answer}").format(answer=task.answer), message)
        return zero(_("runs within the limits"), cell_errors[0] if cell_errors else outcome_message(task_outcome))
    try:
        outputs = load_outputs(returned)
    except Exception as error:  # ExchangeError, or anything else a crafted record provokes: never a crash
        return zero(
            _("returns plain numbers"),
            _("The grader could not read what your code returned: {error}").format(error=error),
        )
    if not isinstance(outputs, dict):
        parts = task.failed(outputs)
    else:
        try:
            parts = task.verdict(inputs, outputs)
        except Exception as error:  # a malformed answer the checks did not foresee: no points, never a crash
            return zero(_("returns the right kind of value"), f"{type(error).__name__}: {error}")
    if cell_errors and any(part.earned < part.points for part in parts):
        failed = _("Its cell failed: {error}").format(error=cell_errors[0])
        parts = [*parts[:-1], replace(parts[-1], message=f"{parts[-1].message} {failed}")]
    return parts


def grade(
    path: Path,
    *,
    lesson: str | None = None,
    language: str | None = None,
    limits: Limits | None = None,
    secret: bytes | None = None,
) -> Result:
    """Grade the notebook at `path`. Never raises because of the submission; never writes to it.

    `lesson` and `language` override what the notebook says about itself.
    """
    limits = limits or Limits()
    started = time.monotonic()
    guarded = protections()
    try:
        submission = read_submission(Path(path), lesson, language)
    except Unreadable as error:
        return unreadable(Path(path), error, lesson, language or "en", guarded)
    official = sheet(submission.lesson)
    items, problems = plan(official, submission)
    secret = secret or secret_seed()
    job = Path(tempfile.mkdtemp(dir=job_root()))
    try:
        os.chmod(job, 0o711)  # the worker's user may pass through to its inputs, not list the folder
        (job / "inputs").mkdir(mode=0o755)
        inputs = {
            task.id: task.make_inputs(task_generator(secret, submission.digest, task.id)) for task in official.tasks
        }
        for task_id, tensors in inputs.items():
            save_tensors(job / "inputs" / f"{task_id}.npz", tensors)
            os.chmod(job / "inputs" / f"{task_id}.npz", 0o644)
        outcome, returned = run_items(job, items, limits, submission.language)
        with _language_lock, using_language(submission.language):
            tasks = [
                judged(task, submission, inputs[task.id], returned.get(task.id), problems, outcome, official)
                for task in official.tasks
            ]
            notes = [
                _("Cell {cell}: {what}").format(cell=name[5:], what=outcome_message(result))
                for name, result in outcome.items()
                if result
                and name.startswith("cell:")
                and not any(name[5:] in official.solution_cells(t.task) for t in tasks)
            ]
            flags = [flag for task in tasks for flag in task.flags]
    finally:
        remove_tree(job)
    return Result(
        submission=str(path),
        digest=submission.digest,
        lesson=submission.lesson,
        language=submission.language,
        points=official.points,
        earned=sum(task.earned for task in tasks),
        tasks=tasks,
        notes=notes,
        flags=flags,
        protections=[asdict(protection) for protection in guarded],
        seconds=round(time.monotonic() - started, 2),
    )


def judged(
    task: Task, submission: Submission, inputs: dict, returned: object, problems: dict, outcome: dict, official: Sheet
) -> TaskResult:
    """One task's verdict, its points withheld where the code takes, or may take, the library's own solution.

    Every solution cell counts, not only the task's own: a helper in another cell runs in the same process.
    A task with references loses its points to a reference taken by name, and to code the scan cannot
    follow (names computed at run time, or a cell it cannot read), which can take one without naming it.
    """
    cells = official.solution_cells(task.id)
    parts = judge_task(task, inputs, returned, cells, problems, outcome)
    sources = [source for cell in cells for source in submission.cells.get(cell, [])[:1]]
    every_solution = [source for found in submission.cells.values() for source in found]
    used = sorted({name for source in every_solution for name in references_used(source, task.references)})
    unfollowed = sorted({name for source in every_solution for name in dynamic_access(source)})[:8]
    if any(unscannable(source) for source in every_solution):
        unfollowed.append(_("a cell too long or too deeply nested to read"))
    withheld = ""
    if used:
        withheld = _(
            "uses {names} from the nfcourse library, which already solves this task; the task asks for your own"
            " code, so its points are withheld."
        ).format(names=", ".join(used))
    elif unfollowed and task.references:
        withheld = _(
            "reaches code in ways the grader cannot check ({names}), and such code could use the library's own"
            " solution of this task without naming it, so its points are withheld; your instructor may look at"
            " the code and award them."
        ).format(names=", ".join(unfollowed))
    flags = []
    if withheld:
        parts = [Part(_("your own implementation"), task.points, 0, withheld)]
        flags.append(f"{task.id}: {withheld}")
    if odd := sorted({name for source in sources for name in suspicious(source)}):
        flags.append(
            _("{task}: the solution uses {names}, which a sheet never needs; have a look.").format(
                task=task.id, names=", ".join(odd)
            )
        )
    if any(unscannable(source) for source in sources):
        message = _("{task}: a solution cell is too long or too deeply nested for the grader to read; have a look.")
        flags.append(message.format(task=task.id))
    return TaskResult(task.id, _(task.title), task.points, sum(part.earned for part in parts), parts, flags)


def unreadable(path: Path, error: Unreadable, lesson: str | None, language: str, guarded: list) -> Result:
    """The result for a file that is not a gradable notebook: 0 points and why."""
    with _language_lock, using_language(language):
        problem = _(error.message).format(**error.details)
    digest = str(error.details.get("digest", ""))
    official = sheet(lesson) if lesson else None
    tasks = [TaskResult(task.id, task.title, task.points, 0, []) for task in official.tasks] if official else []
    return Result(
        str(path),
        digest,
        lesson or "",
        language,
        official.points if official else 0,
        0,
        tasks,
        problem=problem,
        protections=[asdict(protection) for protection in guarded],
    )


__all__ = ["Limits", "Result", "TaskResult", "grade"]
