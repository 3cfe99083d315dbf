"""The sandboxed side of grading: `python -I worker.py JOB EVENTS_FD`, the job on stdin.

Run as a file, so that nothing but the standard library is loaded before `drop_privileges`.

First of all it makes sure it is nobody special: no root, no capabilities, no way to gain privileges
(`drop_privileges`; it refuses to go on otherwise). Then it reads the job (JSON on stdin, so the grader
never writes where the learner's code can), limits itself (rlimits from the job), and runs the job's items
in order, in the writable folder `JOB/work`:

    "cell:<id>"   exec the cell's code (official setup code, or the learner's solution cell)
    "task:<id>"   draw nothing: load the task's inputs from `inputs/<task>.npz`, call the learner's answer
                  through the task's `call`, send what came back as plain data (`{"outputs": task, ...}`)

Before and after each item it writes `{"start": item}` / `{"end": item}` to the events pipe, so the grader
can apply each item's own time limit. Nothing here judges anything: the learner's code shares this
process and could change any of it, so the grader trusts only plain data, and judges it itself.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import resource
import sys
import traceback
from pathlib import Path

PR_SET_NO_NEW_PRIVS = 38  # from <linux/prctl.h>
CAPABILITY_VERSION_3 = 0x20080522  # from <linux/capability.h>


class CapabilityHeader(ctypes.Structure):
    _fields_ = (("version", ctypes.c_uint32), ("pid", ctypes.c_int))


class CapabilitySets(ctypes.Structure):
    _fields_ = (("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32))


def drop_privileges(uid: int, gid: int) -> None:
    """Give up root for `uid`:`gid` if this process has it (bubblewrap started by root keeps it), forbid
    gaining privileges through exec (no_new_privs), and check the result in /proc; exit before any learner
    code otherwise."""
    libc = ctypes.CDLL(None, use_errno=True)
    if 0 in os.getresuid():
        os.setgroups([])
        os.setresgid(gid, gid, gid)
        os.setresuid(uid, uid, uid)  # clears the effective and permitted capabilities
    libc.capset(ctypes.byref(CapabilityHeader(CAPABILITY_VERSION_3, 0)), (CapabilitySets * 2)())  # and the rest
    libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
    status = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines() if ":" in line)
    capabilities = [int(status[name], 16) for name in ("CapInh", "CapPrm", "CapEff", "CapAmb")]
    if any(capabilities) or 0 in os.getresuid() or status["NoNewPrivs"].strip() != "1":
        sys.exit("The grader's worker could not give up its privileges; no learner code was run.")


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
    drop_privileges(*job["user"])
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
    from nfcourse.grading.exchange import load_tensors, outputs_record
    from nfcourse.i18n import set_language

    set_language(job["language"])
    torch.set_num_threads(1)
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
                    emit(**outputs_record(task.id, task.attempt(answer, inputs)))
                except BaseException as raised:  # e.g. SystemExit from inside the answer
                    error = describe(raised, "")
        emit(end=item["name"], error=error)
        sys.stdout.flush()
        sys.stderr.flush()


if __name__ == "__main__":
    main(*sys.argv[1:3])
