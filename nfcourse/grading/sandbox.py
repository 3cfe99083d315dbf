"""Running the learner's code in a separate, fenced-in process, and watching it from outside.

The worker (`python -I -m nfcourse.grading.worker JOB`) runs in the job's own empty folder with a clean
environment, and with every protection this host offers:

    own file system view   bubblewrap: the whole file system read-only, /tmp, the submissions, the
                           results and the course's solutions hidden, only the job's work folder writable
    no network, own PIDs   bubblewrap, or else `unshare --user --net --pid`: no network interface but
                           loopback, and no way to see or signal the grader's processes
    process count          a cgroup's pids.max, or else RLIMIT_NPROC (ineffective for root)
    CPU, memory, files     rlimits the worker sets on itself before it reads any learner code

Whatever the host offers, the grader watches from outside: a wall-clock limit per cell, per task and
per notebook, a cap on printed output enforced while it is being printed, and one on the bytes it
writes. Any breach kills the whole process group (and with it the PID namespace). `protections()` says
which of these are active, so that reports state what was and was not enforced.
"""

from __future__ import annotations

import json
import os
import shutil
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

from nfcourse.i18n import N_

STARTUP_SECONDS = 60.0
_probe_lock = threading.Lock()  # importing torch before the first cell, counted apart from the cells' own limits
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

    @property
    def finished(self) -> set[str]:
        return {event["end"] for event in self.events if "end" in event}


def _works(argv: list[str]) -> bool:
    try:
        return subprocess.run(argv, capture_output=True, timeout=20).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def isolation() -> str:
    """The strongest isolation this host allows: "bubblewrap", "unshare" or "none"."""
    with _probe_lock:
        return _isolation()


@cache
def _isolation() -> str:
    probe = Path("/tmp") / f"nfcourse-probe-{os.getpid()}"
    (probe / "work").mkdir(parents=True, exist_ok=True)
    works = shutil.which("bwrap") and _works([*bwrap_prefix(probe, []), "true"])
    shutil.rmtree(probe, ignore_errors=True)
    if works:
        return "bubblewrap"
    if shutil.which("unshare") and _works([*UNSHARE, "true"]):
        return "unshare"
    return "none"


UNSHARE = ["unshare", "--user", "--map-root-user", "--net", "--pid", "--fork", "--kill-child", "--mount-proc"]


def bwrap_prefix(job: Path, hidden: list[Path]) -> list[str]:
    """bubblewrap: read-only root, `hidden` folders replaced by empty ones, only `job/work` writable."""
    argv = ["bwrap", "--unshare-all", "--die-with-parent", "--new-session", "--ro-bind", "/", "/"]
    argv += ["--dev", "/dev", "--proc", "/proc"]
    for folder in hidden:
        argv += ["--tmpfs", str(folder)]
    work = job / "work"
    return [*argv, "--ro-bind", str(job), str(job), "--bind", str(work), str(work), "--chdir", str(work), "--"]


def job_root() -> Path:
    """The folder of this grader process's jobs (one subfolder each), hidden as a whole from every job."""
    root = Path(tempfile.gettempdir()) / f"nfcourse-grading-{os.getpid()}"
    root.mkdir(mode=0o700, exist_ok=True)
    return root


def always_hidden() -> list[Path]:
    """Hidden from every job: the temporary folder (unless Python lives there), all jobs, the course's solutions."""
    return [Path(tempfile.gettempdir()), job_root(), *course_sources()]


def course_sources() -> list[Path]:
    """Where a checkout of the course keeps the solutions (solved sheets, lesson sources, tests, history)."""
    root = Path(__file__).resolve().parents[2]
    return [root / name for name in ("solutions", "lessons", "tests", ".git")]


def hideable(folders: list[Path]) -> list[Path]:
    """The folders to hide, except any that holds what the worker needs (Python, nfcourse) or is missing."""
    needed = [Path(sys.prefix).resolve(), Path(sys.base_prefix).resolve(), Path(__file__).resolve().parents[2]]
    result = []
    for folder in {folder.resolve() for folder in folders}:
        if folder.is_dir() and folder != Path("/") and not any(path.is_relative_to(folder) for path in needed):
            result.append(folder)
    return sorted(result)  # parents before their subfolders, so a later tmpfs is not covered by an earlier one


def pids_cgroup_parent() -> Path | None:
    """A cgroup (v1 pids hierarchy) under which the grader may create one group per run, if it can."""
    with _probe_lock:
        return _pids_cgroup_parent()


@cache
def _pids_cgroup_parent() -> Path | None:
    try:
        for line in Path("/proc/self/cgroup").read_text().splitlines():
            _number, controllers, path = line.split(":", 2)
            if "pids" in controllers.split(","):
                parent = Path("/sys/fs/cgroup/pids") / path.lstrip("/")
                probe = parent / f"nfcourse-probe-{os.getpid()}"
                probe.mkdir()
                probe.rmdir()
                return parent
    except OSError:
        return None
    return None


def process_limit() -> str:
    """How the process count is limited: "cgroup", "rlimit" or "" (not possible here)."""
    if pids_cgroup_parent() is not None:
        return "cgroup"
    return "rlimit" if hasattr(os, "geteuid") and os.geteuid() != 0 and Path("/proc").is_dir() else ""


def protections() -> list[Protection]:
    """Which protections this host gives the learner's code, for every report."""
    how = isolation()
    namespaces = {"bubblewrap": "bubblewrap", "unshare": "unshare (user, network and PID namespaces)"}
    missing = "unavailable here: install bubblewrap (apt install bubblewrap) or allow user namespaces"
    limit = process_limit()
    return [
        Protection(N_("separate process, wall-clock limits, output cap"), True, "always"),
        Protection(N_("CPU time, memory and file size limits"), hasattr(os, "setsid"), "rlimits"),
        Protection(N_("no network"), how != "none", namespaces.get(how, missing)),
        Protection(N_("cannot see or signal the grader's processes"), how != "none", namespaces.get(how, missing)),
        Protection(
            N_("read-only file system, other submissions and results hidden"),
            how == "bubblewrap",
            "bubblewrap" if how == "bubblewrap" else missing,
        ),
        Protection(
            N_("limited number of processes"),
            bool(limit),
            {"cgroup": "cgroup pids.max", "rlimit": "RLIMIT_NPROC"}.get(limit, "unavailable for root without cgroups"),
        ),
    ]


def user_tasks() -> int:
    """The number of threads the current user runs (what RLIMIT_NPROC counts)."""
    total, uid = 0, str(os.getuid())
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(line.split(":", 1) for line in status.read_text().splitlines() if ":" in line)
        except OSError:
            continue
        if fields.get("Uid", "").split()[:1] == [uid]:
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
        values["RLIMIT_NPROC"] = user_tasks() + limits.processes
    return values


def worker_environment(job: Path) -> dict[str, str]:
    """A clean environment: nothing of the grader's, one thread per library."""
    return {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": str(job),
        "TMPDIR": str(job),
        "LANG": "C.UTF-8",
        "MPLBACKEND": "Agg",
        "MPLCONFIGDIR": str(job),
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
        "type": str(error.get("type", "Error"))[:100],
        "message": str(error.get("message", ""))[:300],
        "line": line if isinstance(line, int) else None,
    }


def folder_size(folder: Path, most: int) -> int:
    """Bytes under `folder`, stopping early once past `most` (entries count 4 KiB each, links are not followed)."""
    total = 0
    for base, folders, files in os.walk(folder):
        for name in folders + files:
            try:
                total += 4096 + os.lstat(os.path.join(base, name)).st_size
            except OSError:
                continue
            if total > most:
                return total
    return total


class Watch:
    """Reads the worker's output and events in threads, and tells when a limit is exceeded.

    Events come through a pipe the learner's code can also write to, so only the start and end of the
    items this run was given count, each once, and a flood of events is treated like a flood of output.
    """

    def __init__(self, process: subprocess.Popen, events_fd: int, limits: Limits, items: list[str], work: Path) -> None:
        self.process, self.limits = process, limits
        self.run = Run()
        self.printed = 0
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
            for line in iter(lambda: events.readline(4096), b""):
                with self.lock:
                    self.printed += len(line)  # forged events count against the output cap
                try:
                    event = json.loads(line)
                except ValueError:
                    continue
                if isinstance(event, dict):
                    self.record(event)

    def record(self, event: dict) -> None:
        with self.lock:
            item = event.get("start")
            if item in self.expected and ("start", item) not in self.seen:
                self.seen.add(("start", item))
                self.run.running, self.item_started = item, time.monotonic()
                self.item_limit = self.limits.cell_seconds if item.startswith("cell:") else self.limits.task_seconds
                self.run.events.append({"start": item})
            item = event.get("end")
            if item in self.expected and item == self.run.running and ("end", item) not in self.seen:
                self.seen.add(("end", item))
                self.run.running = ""
                self.run.events.append({"end": item, "error": plain_error(event.get("error"))})

    def done(self) -> bool:
        """Every item has ended: all its results are written, so the process need not be waited for."""
        with self.lock:
            return {("end", item) for item in self.expected} <= self.seen

    def breach(self) -> str:
        """The limit exceeded right now, or ""."""
        now = time.monotonic()
        with self.lock:
            if self.printed > self.limits.output_bytes:
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


def run_worker(job: Path, job_text: str, limits: Limits, hidden: list[Path]) -> Run:
    """Start the worker on `job` with every protection available, send it `job_text`, watch it, return what it did.

    `job` holds the task inputs (read-only for the worker); the worker works in `job/work`.
    """
    (job / "work").mkdir(exist_ok=True)
    read_end, write_end = os.pipe()
    argv = [sys.executable, "-I", "-X", "utf8", "-m", "nfcourse.grading.worker", str(job), str(write_end)]
    how = isolation()
    if how == "bubblewrap":
        argv = bwrap_prefix(job, hideable(hidden + always_hidden())) + argv
    elif how == "unshare":
        argv = UNSHARE + argv
    cgroup = None
    if (parent := pids_cgroup_parent()) is not None:
        cgroup = parent / f"nfcourse-{os.getpid()}-{next(_cgroup_names)}"
        cgroup.mkdir()
        (cgroup / "pids.max").write_text(str(limits.processes))
        argv = ["sh", "-c", 'echo $$ > "$0" && exec "$@"', str(cgroup / "cgroup.procs"), *argv]
    try:
        process = subprocess.Popen(
            argv,
            cwd=job / "work",
            env=worker_environment(job / "work"),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            pass_fds=(write_end,),
            start_new_session=True,
        )
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
        if cgroup is not None:
            remove_cgroup(cgroup)
    with watch.lock:
        watch.run.returncode = process.returncode
        return watch.run


def remove_cgroup(cgroup: Path) -> None:
    """Remove a run's cgroup once its processes are gone (they are being killed)."""
    for _attempt in range(50):
        try:
            cgroup.rmdir()
            return
        except OSError:
            time.sleep(0.05)
