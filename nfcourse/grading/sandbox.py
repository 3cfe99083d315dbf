"""Running the learner's code in a separate, fenced-in process, and watching it from outside.

The worker (`python -I worker.py JOB EVENTS_FD`) runs with a clean environment and every
protection this host offers (isolation.py says which and how):

    unprivileged           never root: a root grader runs it as `nobody`, with no capabilities and
                           no_new_privs, before any learner code runs
    own file system        bubblewrap: only Python, the course package, a minimal /etc and the job's
                           inputs, read-only; one writable folder, a tmpfs of `Limits.disk_bytes`
    no network, own PIDs   bubblewrap, or else `unshare`: no network interface but loopback, and no way
                           to see or signal the grader's processes
    processes, memory      a cgroup per run (pids, memory) where the host lends one; else RLIMIT_NPROC
    CPU, memory, files     rlimits the worker sets on itself before it reads any learner code

Whatever the host offers, the grader watches from outside: a wall-clock limit per cell, per task and
per notebook, a cap on printed output enforced while it is being printed, and (without bubblewrap's
tmpfs) one on the bytes written. Any breach kills the whole process group (and with it the PID
namespace). `protections()` says which of these are active, so that reports state what was enforced.
"""

from __future__ import annotations

import atexit
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from functools import cache
from itertools import count
from pathlib import Path

from nfcourse.grading.exchange import RECORD_BYTES
from nfcourse.grading.folders import folder_size, remove_tree
from nfcourse.grading.isolation import (
    isolation,
    job_inside,
    launcher,
    prepare_work,
    sandbox_prefix,
    sized_tmpfs,
    started_by_root,
    unprivileged_ids,
    worker_ids,
)
from nfcourse.grading.untrusted import plain_text
from nfcourse.i18n import N_

STARTUP_SECONDS = 60.0
WORKER = Path(__file__).with_name("worker.py")  # run as a file: nothing of nfcourse is imported before it drops root
_probe_lock = threading.Lock()  # the host is probed once, whichever thread asks first
_cgroup_names = count()


@dataclass(frozen=True)
class Limits:
    """What one submission may use. The wall-clock limits are per cell, per task call, and for everything."""

    cell_seconds: float = 30.0
    task_seconds: float = 30.0
    notebook_seconds: float = 240.0
    memory_bytes: int = 4 * 2**30  # address space, which includes torch's own ~1.5 GB
    file_bytes: int = 64 * 2**20
    processes: int = 32  # threads count as processes
    output_bytes: int = 2**20
    disk_bytes: int = 256 * 2**20  # everything the learner's code writes in its folder together


@dataclass(frozen=True)
class Protection:
    name: str  # English; reports translate it
    active: bool
    how: str  # the mechanism, or why it is missing


@dataclass
class Run:
    """What the grader saw of one worker process."""

    returncode: int | None = None
    events: list[dict] = field(default_factory=list)  # {"start": item} and {"end": item, ...} in order
    killed_for: str = ""  # "" (ended by itself), "item" (the running item's limit), "notebook", "output", "disk"
    running: str = ""  # the item that had started but not ended when the process stopped
    output: bytes = b""  # the first bytes the learner's code printed
    outputs: dict[str, dict] = field(default_factory=dict)  # task id -> the record of what its answer returned

    @property
    def finished(self) -> set[str]:
        return {event["end"] for event in self.events if "end" in event}


@dataclass(frozen=True)
class Controller:
    """A cgroup controller the grader uses, with its limit file under cgroup v1 and v2."""

    name: str
    v1_limit: str
    v2_limit: str


PIDS = Controller("pids", "pids.max", "pids.max")
MEMORY = Controller("memory", "memory.limit_in_bytes", "memory.max")


def cgroup_parent(controller: Controller) -> Path | None:
    """A cgroup with `controller` under which the grader may create one group per run, if it can."""
    with _probe_lock:
        return _cgroup_parent(controller)


@cache
def _cgroup_parent(controller: Controller) -> Path | None:
    try:
        for line in Path("/proc/self/cgroup").read_text().splitlines():
            _number, controllers, path = line.split(":", 2)
            if controller.name in controllers.split(","):
                parent, limit = Path("/sys/fs/cgroup") / controller.name / path.lstrip("/"), controller.v1_limit
            elif controllers == "" and Path("/sys/fs/cgroup/cgroup.controllers").exists():
                parent, limit = Path("/sys/fs/cgroup") / path.lstrip("/"), controller.v2_limit
            else:
                continue
            probe = parent / f"nfcourse-probe-{os.getpid()}"
            probe.mkdir()
            try:
                if (probe / limit).exists():
                    return parent
            finally:
                probe.rmdir()
    except OSError:
        return None
    return None


def limit_file(cgroup: Path, controller: Controller) -> Path:
    v1 = cgroup / controller.v1_limit
    return v1 if v1.exists() else cgroup / controller.v2_limit


def process_limit() -> str:
    """How the process count is limited: "cgroup" or "rlimit" (which counts every process of the worker's user)."""
    return "cgroup" if cgroup_parent(PIDS) is not None else "rlimit"


def sandbox_user() -> str:
    """Who the learner's code runs as on this host, in words."""
    if not started_by_root():
        return "the grader's own user, no capabilities"
    uid, _gid = unprivileged_ids()
    return f"nobody (uid {uid}), no capabilities, no_new_privs"


ISOLATION_KINDS = {  # isolation() in words, for reports
    "bubblewrap": N_("bubblewrap, with its own user, mount, PID, network and IPC namespaces"),
    "bubblewrap-as-root": N_("bubblewrap, with its own mount, PID, network and IPC namespaces (no user namespace)"),
    "unshare": N_("unshare, with its own user, network, PID and IPC namespaces (the host's file system)"),
    "none": N_("none: a separate process only"),
}


def protections() -> list[Protection]:
    """Which protections this host gives the learner's code, for every report; the first names the isolation."""
    how = isolation()
    walled = how.startswith("bubblewrap")
    capped = walled and sized_tmpfs()
    namespaces = {
        "bubblewrap": "bubblewrap: user, mount, PID, network and IPC namespaces",
        "bubblewrap-as-root": "bubblewrap: mount, PID, network and IPC namespaces (no user namespaces here)",
        "unshare": "unshare: user, network, PID and IPC namespaces",
    }
    missing = "unavailable here: install bubblewrap (apt install bubblewrap) or allow user namespaces"
    memory = cgroup_parent(MEMORY) is not None
    return [
        Protection(N_("isolation"), how != "none", how),
        Protection(N_("separate process, wall-clock limits, output cap"), True, "always"),
        Protection(N_("CPU time, memory and file size limits"), True, "rlimits"),
        Protection(N_("unprivileged user"), True, sandbox_user()),
        Protection(N_("no network"), how != "none", namespaces.get(how, missing)),
        Protection(N_("cannot see or signal the grader's processes"), how != "none", namespaces.get(how, missing)),
        Protection(
            N_("own file system: only Python, the course package and the job's folder"),
            walled,
            "bubblewrap" if walled else missing,
        ),
        Protection(
            N_("all writable space capped"),
            capped,
            "a size-limited tmpfs" if capped else "the job folder's size checked twice a second (can be overshot)",
        ),
        Protection(
            N_("limited number of processes"),
            True,
            "cgroup pids.max" if process_limit() == "cgroup" else "RLIMIT_NPROC (counts all processes of that user)",
        ),
        Protection(
            N_("memory limited by a cgroup"),
            memory,
            "cgroup memory limit" if memory else "no cgroup here: RLIMIT_AS alone, which leaves out kernel buffers",
        ),
    ]


@cache
def job_root() -> Path:
    """The folder of this grader process's jobs (one subfolder each), removed when the process ends.

    Torch's compiler cache, which judging can create, goes in there too (unless set already), so that
    grading leaves nothing behind in the temporary folder.
    """
    root = Path(tempfile.mkdtemp(prefix=f"nfcourse-grading-{os.getpid()}-"))
    os.chmod(root, 0o711)  # the worker's user may pass through to its own job, not list the others
    os.environ.setdefault("TORCHINDUCTOR_CACHE_DIR", str(root / "torch-cache"))
    atexit.register(remove_tree, root)
    return root


def user_tasks(uid: int) -> int:
    """The number of threads user `uid` runs on this host (what RLIMIT_NPROC counts)."""
    total = 0
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(line.split(":", 1) for line in status.read_text().splitlines() if ":" in line)
        except OSError:
            continue
        if fields.get("Uid", "").split()[:1] == [str(uid)]:
            total += int(fields.get("Threads", "1"))
    return total


def worker_limits(limits: Limits) -> dict[str, int]:
    """The rlimits the worker sets on itself, by name of the `resource` constant."""
    values = {
        "RLIMIT_CPU": int(limits.notebook_seconds) + 1,
        "RLIMIT_AS": limits.memory_bytes,
        "RLIMIT_FSIZE": limits.file_bytes,
        "RLIMIT_CORE": 0,
    }
    if process_limit() == "rlimit":
        values["RLIMIT_NPROC"] = user_tasks(worker_ids()[0]) + limits.processes
    return values


def worker_environment(work: Path) -> dict[str, str]:
    """A clean environment: nothing of the grader's, home and temporary folder in `work`, one thread per library."""
    return {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": str(work),
        "TMPDIR": str(work),
        "LANG": "C.UTF-8",
        "MPLBACKEND": "Agg",
        "MPLCONFIGDIR": str(work),
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONIOENCODING": "utf-8",
    }


def plain_error(error: object) -> dict | None:
    """An event's error, reduced to what the grader shows; None if it is not one (events can be forged)."""
    if not isinstance(error, dict):
        return None
    line = error.get("line")
    return {
        "type": plain_text(error.get("type", "Error"), 100),
        "message": plain_text(error.get("message", ""), 300),
        "line": line if type(line) is int else None,
    }


class Watch:
    """Reads the worker's output and events in threads, and tells when a limit is exceeded.

    Events come through a pipe the learner's code can also write to, so only the start and end of the
    items this run was given count, each once, the values a task returned only while that task runs, and
    a flood of events is treated like a flood of output.
    """

    def __init__(self, process: subprocess.Popen, events_fd: int, limits: Limits, items: list[str], work: Path) -> None:
        self.process, self.limits = process, limits
        self.run = Run()
        self.printed = self.returned = 0  # bytes printed (and forged events), bytes of returned values
        self.lock = threading.Lock()
        self.started = self.item_started = self.size_checked = time.monotonic()
        self.item_limit = STARTUP_SECONDS
        self.expected, self.seen = set(items), set()
        self.work = work
        self.readers = [
            threading.Thread(target=self.read_output, daemon=True),
            threading.Thread(target=self.read_events, args=(events_fd,), daemon=True),
        ]
        for reader in self.readers:
            reader.start()

    def read_output(self) -> None:
        while chunk := self.process.stdout.read1(65536):
            with self.lock:
                if self.printed < 8192:
                    self.run.output += chunk[: 8192 - self.printed]
                self.printed += len(chunk)

    def read_events(self, fd: int) -> None:
        with open(fd, "rb", closefd=True) as events:
            for line in iter(lambda: events.readline(RECORD_BYTES), b""):
                try:
                    event = json.loads(line)
                except ValueError:
                    event = None
                with self.lock:
                    if not (isinstance(event, dict) and self.record(event)):
                        self.printed += len(line)  # forged or broken events count against the output cap
                    elif "outputs" in event:
                        self.returned += len(line)

    def record(self, event: dict) -> bool:
        """Take an event of this run into account (the lock is held); False if it is not one."""
        item = event.get("start")
        if isinstance(item, str) and item in self.expected and ("start", item) not in self.seen:
            self.seen.add(("start", item))
            self.run.running, self.item_started = item, time.monotonic()
            self.item_limit = self.limits.cell_seconds if item.startswith("cell:") else self.limits.task_seconds
            self.run.events.append({"start": item})
            return True
        task = event.get("outputs")
        if isinstance(task, str) and self.run.running == f"task:{task}":
            self.run.outputs[task] = event
            return True
        item = event.get("end")
        if isinstance(item, str) and item == self.run.running and ("end", item) not in self.seen:
            self.seen.add(("end", item))
            self.run.running = ""
            self.run.events.append({"end": item, "error": plain_error(event.get("error"))})
            return True
        return False

    def done(self) -> bool:
        """Every item has ended: all its results are written, so the process need not be waited for."""
        with self.lock:
            return {("end", item) for item in self.expected} <= self.seen

    def breach(self) -> str:
        """The limit exceeded right now, or ""."""
        now = time.monotonic()
        with self.lock:
            if self.printed > self.limits.output_bytes or self.returned > RECORD_BYTES:
                return "output"
            if now - self.started > self.limits.notebook_seconds:
                return "notebook"
            if now - self.item_started > self.item_limit:
                return "item"
        if now - self.size_checked > 0.5:
            self.size_checked = now
            if folder_size(self.work, self.limits.disk_bytes) > self.limits.disk_bytes:
                return "disk"
        return ""


def kill(process: subprocess.Popen) -> None:
    """Kill the worker's whole process group (and with bubblewrap or unshare its PID namespace)."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        process.kill()


def send(process: subprocess.Popen, text: str) -> None:
    """Write the job to the worker's stdin and close it (in a thread, so a worker that never reads cannot block)."""
    try:
        process.stdin.write(text.encode("utf-8"))
        process.stdin.close()
    except OSError:
        pass


def run_worker(job: Path, job_text: str, limits: Limits) -> Run:
    """Start the worker on `job` with every protection available, send it `job_text`, watch it, return what it did.

    `job/inputs` holds the task inputs (read-only for the worker); the worker works in `job/work` and sends
    what the answers returned through its events pipe.
    """
    how = isolation()
    prepare_work(job / "work")
    read_end, write_end = os.pipe()
    inside = job_inside(how, job)
    worker = [sys.executable, "-I", "-X", "utf8", str(WORKER), str(inside), str(write_end)]
    cgroups = make_cgroups(limits)
    argv = launcher(how, cgroups) + sandbox_prefix(how, job, limits.disk_bytes) + worker
    try:
        process = subprocess.Popen(
            argv,
            cwd="/",
            env=worker_environment(inside / "work"),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            pass_fds=(write_end,),
            start_new_session=True,
        )
    except OSError:
        os.close(read_end)
        for cgroup in cgroups:
            remove_cgroup(cgroup)
        raise
    finally:
        os.close(write_end)
    threading.Thread(target=send, args=(process, job_text), daemon=True).start()
    items = [item["name"] for item in json.loads(job_text)["items"]]
    watch = Watch(process, read_end, limits, items, job / "work")
    try:
        while process.poll() is None and not watch.done():
            if reason := watch.breach():
                watch.run.killed_for = reason
                kill(process)
                break
            time.sleep(0.05)
    finally:
        kill(process)  # also whatever it left behind in its group
        process.wait()
        for reader in watch.readers:
            reader.join(timeout=2)
        for cgroup in cgroups:
            remove_cgroup(cgroup)
    with watch.lock:
        watch.run.returncode = process.returncode
        return watch.run


def make_cgroups(limits: Limits) -> list[Path]:
    """One new cgroup per controller this host lends the grader, with the run's limit written in."""
    values = {PIDS: limits.processes, MEMORY: limits.memory_bytes + limits.disk_bytes}
    cgroups = []
    for controller, value in values.items():
        if (parent := cgroup_parent(controller)) is not None:
            cgroup = parent / f"nfcourse-{os.getpid()}-{next(_cgroup_names)}"
            cgroup.mkdir()
            limit_file(cgroup, controller).write_text(str(value))
            cgroups.append(cgroup)
    return cgroups


def remove_cgroup(cgroup: Path) -> None:
    """Remove a run's cgroup once its processes are gone (they are being killed)."""
    for _attempt in range(50):
        try:
            cgroup.rmdir()
            return
        except OSError:
            time.sleep(0.05)
