"""The sandboxed side of grading: `python -I -m nfcourse.grading.worker JOB EVENTS_FD`, the job on stdin.

It reads the job (JSON on stdin, so the grader never writes where the learner's code can), limits itself
(rlimits from the job), then runs the job's items in order, in the writable folder `JOB/work`:

    "cell:<id>"   exec the cell's code (official setup code, or the learner's solution cell)
    "task:<id>"   draw nothing: load the task's inputs from `inputs/<task>.npz`, call the learner's answer
                  through the task's `call`, write what came back to `work/outputs/` as plain data

Before and after each item it writes `{"start": item}` / `{"end": item}` to the events pipe, so the grader
can apply each item's own time limit. Nothing here judges anything: the learner's code shares this
process and could change any of it, so the grader trusts only the plain data in `outputs/`.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import sys
import traceback
from pathlib import Path


def limit_myself(limits: dict[str, int]) -> None:
    for name, value in limits.items():
        resource.setrlimit(getattr(resource, name), (value, value))


def describe(error: BaseException, cell: str) -> dict[str, object]:
    """The exception of a cell as plain data: its type, message and the line of the cell it came from."""
    line = error.lineno if isinstance(error, SyntaxError) else None
    for frame in traceback.extract_tb(error.__traceback__):
        if frame.filename == cell:
            line = frame.lineno
    message = str(error)
    if isinstance(error, SyntaxError) and error.text:
        message = f"{error.msg}: {error.text.strip()}"
    return {"type": type(error).__name__, "message": message[:300], "line": line}


def main(job_folder: str, events_fd: str) -> None:
    job_dir = Path(job_folder)
    job = json.loads(sys.stdin.read())
    limit_myself(job["rlimits"])
    # A group of its own, so that `os.kill(0, ...)` in a cell hits only the worker, at once, not its launcher
    # (PermissionError: it already leads one, under bubblewrap or when started directly by the grader).
    with contextlib.suppress(PermissionError):
        os.setsid()
    events = os.fdopen(int(events_fd), "w", buffering=1)

    def emit(**event: object) -> None:
        events.write(json.dumps(event) + "\n")

    import torch  # after the limits: importing torch is the first large allocation

    from nfcourse.checks.registry import TASKS
    from nfcourse.grading.exchange import load_tensors, save_outputs
    from nfcourse.i18n import set_language

    set_language(job["language"])
    torch.set_num_threads(1)
    outputs = job_dir / "work" / "outputs"
    outputs.mkdir(exist_ok=True)
    namespace: dict[str, object] = {"__name__": "__main__"}
    for item in job["items"]:
        emit(start=item["name"])
        error = None
        if item["name"].startswith("cell:"):
            filename = f"<cell {item['name'][5:]}>"
            try:
                exec(compile(item["source"], filename, "exec"), namespace)
            except BaseException as raised:  # SystemExit and KeyboardInterrupt too: the next cell still runs
                error = describe(raised, filename)
        else:
            task = TASKS[item["task"]]
            answer = namespace.get(task.answer)
            if answer is None:
                error = {"type": "missing", "message": task.answer, "line": None}
            else:
                inputs = load_tensors(job_dir / "inputs" / f"{task.id}.npz")
                try:
                    save_outputs(outputs, task.id, task.attempt(answer, inputs))
                except BaseException as raised:  # e.g. SystemExit from inside the answer
                    error = describe(raised, "")
        emit(end=item["name"], error=error)
        sys.stdout.flush()
        sys.stderr.flush()


if __name__ == "__main__":
    main(*sys.argv[1:3])
