"""How the worker is fenced in: which namespaces, which user, which part of the file system it sees.

The strongest form this host allows is chosen once per grader process (`isolation()`):

    "bubblewrap"             bubblewrap in new user, mount, PID, network, IPC and UTS namespaces; a
                             grader running as root first becomes `nobody`, so the learner's code runs
                             as an unprivileged user on the host too, with no capabilities
    "bubblewrap-as-root"     the same without a user namespace (hosts that forbid them to unprivileged
                             users): bubblewrap is started by root, and the worker gives up root itself
                             before it reads any learner code (`worker.drop_privileges`)
    "unshare"                no bubblewrap: `unshare` with user, network, PID and IPC namespaces, but the
                             host's file system as it is
    "none"                   a plain process; a root grader still starts it as `nobody`

With bubblewrap the worker sees a file system of its own (`view`): the system's programs and libraries
and the Python installation read-only, the course package without the rest of its checkout, a minimal
`/etc` (no host users or secrets), the job's inputs read-only, and one writable folder, a size-limited
tmpfs. Everything else of the host does not exist in there.
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import threading
from functools import cache
from pathlib import Path

import nfcourse
from nfcourse.grading.folders import remove_tree

SYSTEM_FOLDERS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
SYSTEM_FILES = (
    "/etc/ld.so.cache",
    "/etc/ld.so.conf",
    "/etc/ld.so.conf.d",
    "/etc/localtime",
    "/etc/alternatives",
    "/etc/fonts",
)
NAMESPACES = ["--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts", "--unshare-cgroup-try"]
UNSHARE = [
    shutil.which("unshare") or "unshare",
    "--user",
    "--net",
    "--pid",
    "--ipc",
    "--fork",
    "--kill-child",
    "--mount-proc",
]
LAUNCHER = Path(__file__).with_name("launch.py")
PYTHON_RUNS = [sys.executable, "-I", "-c", "import nfcourse"]  # the probe: the worker's Python starts in there
_probe_lock = threading.Lock()


def unprivileged_ids() -> tuple[int, int]:
    """The uid and gid the learner's code runs as when the grader is root: `nobody`'s, else 65534."""
    try:
        entry = pwd.getpwnam("nobody")
        return entry.pw_uid, entry.pw_gid
    except KeyError:
        return 65534, 65534


def started_by_root() -> bool:
    return os.geteuid() == 0


def worker_ids() -> tuple[int, int]:
    """The host uid and gid the learner's code runs as: `nobody`'s for a root grader, else the grader's."""
    return unprivileged_ids() if started_by_root() else (os.getuid(), os.getgid())


def in_system_folders(path: Path) -> bool:
    return any(path.is_relative_to(system) for system in SYSTEM_FOLDERS)


def isolation() -> str:
    """The strongest isolation this host allows (see the module docstring for the four kinds)."""
    with _probe_lock:
        return _isolation()


@cache
def _isolation() -> str:
    probe = Path(tempfile.mkdtemp(prefix="nfcourse-probe-"))
    try:
        os.chmod(probe, 0o755)
        (probe / "inputs").mkdir(mode=0o755)
        prepare_work(probe / "work")
        candidates = ["bubblewrap", "bubblewrap-as-root"] if started_by_root() else ["bubblewrap"]
        candidates = [*(candidates if shutil.which("bwrap") else []), *(["unshare"] if shutil.which("unshare") else [])]
        return next((how for how in candidates if python_starts(how, probe)), "none")
    finally:
        remove_tree(probe)


def python_starts(how: str, job: Path) -> bool:
    """Whether the worker's Python starts and imports nfcourse under isolation `how`, on `job`'s folders."""
    try:
        argv = [*launcher(how), *sandbox_prefix(how, job, 2**20), *PYTHON_RUNS]
        return subprocess.run(argv, capture_output=True, timeout=20, cwd="/").returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def prepare_work(work: Path) -> None:
    """The worker's writable folder on the host, emptied of a previous run's files: under bubblewrap the
    place its tmpfs is shown, otherwise the folder itself, owned by the worker's user."""
    remove_tree(work)
    work.mkdir(mode=0o711)  # others (bubblewrap as root without capabilities) may enter it, not list it
    if started_by_root():
        os.chown(work, *worker_ids())


def launcher(how: str, cgroups: list[Path] = ()) -> list[str]:
    """The trusted first step (launch.py): join the run's cgroups, and become `nobody` unless bubblewrap needs root."""
    argv = [sys.executable, "-I", "-S", str(LAUNCHER)]
    for cgroup in cgroups:
        argv += ["--cgroup", str(cgroup / "cgroup.procs")]
    if started_by_root() and how != "bubblewrap-as-root":
        argv += ["--user", "{}:{}".format(*worker_ids())]
    return [*argv, "--"]


def sandbox_prefix(how: str, job: Path, writable_bytes: int) -> list[str]:
    """What goes before the worker's command line for isolation `how`."""
    if how.startswith("bubblewrap"):
        return bwrap_prefix(how, job, writable_bytes)
    return UNSHARE if how == "unshare" else []


SANDBOX_JOB = Path("/job")  # where bubblewrap shows the worker its job folder


def job_inside(how: str, job: Path) -> Path:
    """The job folder as the worker sees it."""
    return SANDBOX_JOB if how.startswith("bubblewrap") else job


def bwrap_prefix(how: str, job: Path, writable_bytes: int) -> list[str]:
    """bubblewrap with the worker's own file system (`view`), started in its work folder."""
    namespaces = ["--unshare-user", *NAMESPACES] if how == "bubblewrap" else NAMESPACES
    capabilities = ["--cap-drop", "ALL"]
    if how == "bubblewrap-as-root":  # the worker needs these two to become nobody
        capabilities += ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
    argv = [shutil.which("bwrap") or "bwrap", *namespaces, "--die-with-parent", "--new-session", *capabilities]
    return [*argv, *view(job, writable_bytes), "--chdir", str(SANDBOX_JOB / "work"), "--"]


def view(job: Path, writable_bytes: int) -> list[str]:
    """bubblewrap's mounts: only what the worker needs, read-only; `job/inputs` as /job/inputs, and /job/work
    a tmpfs of `writable_bytes` (or, with an old bubblewrap, the host's `job/work`), the one place it can
    write. Writes `job/etc` (see `write_etc`)."""
    argv = []
    for folder in map(Path, SYSTEM_FOLDERS):
        if folder.is_symlink():
            argv += ["--symlink", os.readlink(folder), str(folder)]
        elif folder.is_dir():
            argv += ["--ro-bind", str(folder), str(folder)]
    argv += ["--dir", "/etc", "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp"]
    for name in SYSTEM_FILES:
        if Path(name).exists():
            argv += ["--ro-bind", name, name]
    for name in write_etc(job):
        argv += ["--ro-bind", str(job / "etc" / name), f"/etc/{name}"]
    made: set[Path] = set()
    for folder in python_folders():
        for parent in reversed(folder.parents[:-1]):  # bubblewrap would make them readable by root only
            if parent not in made and not in_system_folders(parent):
                argv += ["--perms", "0755", "--dir", str(parent)]
                made.add(parent)
        argv += ["--ro-bind", str(folder), str(folder)]
    argv += [
        "--perms",
        "0755",
        "--dir",
        str(SANDBOX_JOB),
        "--ro-bind",
        str(job / "inputs"),
        str(SANDBOX_JOB / "inputs"),
    ]
    if sized_tmpfs():
        argv += ["--size", str(writable_bytes), "--perms", "0777", "--tmpfs", str(SANDBOX_JOB / "work")]
    else:  # bubblewrap before 0.7: the host's job/work, whose size the grader watches
        argv += ["--bind", str(job / "work"), str(SANDBOX_JOB / "work")]
    return [*argv, "--remount-ro", "/tmp", "--remount-ro", "/dev", "--remount-ro", "/"]


def write_etc(job: Path) -> list[str]:
    """The sandbox's own `/etc/passwd` and `/etc/group` in `job/etc`: root, nobody and the grader's user only."""
    uid, gid = unprivileged_ids()
    users = {os.getuid(): ("grader", os.getgid()), 0: ("root", 0), uid: ("nobody", gid)}
    (job / "etc").mkdir(mode=0o755, exist_ok=True)
    passwd = "".join(
        f"{name}:x:{number}:{group}::/nonexistent:/usr/sbin/nologin\n" for number, (name, group) in users.items()
    )
    groups = "".join(f"{name}:x:{group}:\n" for name, group in dict(users.values()).items())
    for name, content in (("passwd", passwd), ("group", groups)):
        (job / "etc" / name).write_text(content, encoding="utf-8")
        os.chmod(job / "etc" / name, 0o644)
    return ["passwd", "group"]


@cache
def sized_tmpfs() -> bool:
    """Whether this bubblewrap can cap a tmpfs's size (`--size`, bubblewrap 0.7 and later)."""
    try:
        return "--size" in subprocess.run(["bwrap", "--help"], capture_output=True, text=True, timeout=20).stdout
    except (OSError, subprocess.TimeoutExpired):
        return False


def python_folders() -> list[Path]:
    """The folders Python needs outside the system folders: its installation and import path, and nfcourse.

    An import-path entry that holds the course package (a checkout on the path) contributes only the
    package itself, so that the checkout's solutions, lessons and tests stay outside.
    """
    package = Path(nfcourse.__file__).resolve().parent
    needed = {package}
    for entry in map(Path, _import_path()):
        entry = entry.resolve()
        if not entry.exists() or in_system_folders(entry):
            continue
        needed.add(package if package.is_relative_to(entry) else entry)
    for prefix in {sys.prefix, sys.base_prefix, sys.exec_prefix}:
        prefix = Path(prefix).resolve()
        if not in_system_folders(prefix):
            needed.add(package if package.is_relative_to(prefix) else prefix)
    return outermost(needed)


def outermost(folders: set[Path]) -> list[Path]:
    """The folders that are not inside another of them, sorted."""
    return sorted(f for f in folders if not any(f != other and f.is_relative_to(other) for other in folders))


@cache
def _import_path() -> list[str]:
    """The worker's import path: what `python -I` puts on sys.path in this environment."""
    code = "import json, sys; print(json.dumps(sys.path))"
    output = subprocess.run([sys.executable, "-I", "-c", code], capture_output=True, check=True, cwd="/").stdout
    return [entry for entry in json.loads(output) if entry]
