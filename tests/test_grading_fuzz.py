"""Fuzzing the grader's trust boundary: whatever crosses from the learner's side, nothing here raises.

The pure functions that meet untrusted input are fed random and adversarial text and structures: the scan
(Python-ish sources, deep nesting, huge sizes, odd Unicode, lone surrogates), every form of the report
(results whose strings are anything), the exchange of returned values (random records and files), and the
sandbox's folder helpers (random trees with links out of the folder and back up, FIFOs, names that are not
UTF-8, and a 1,500-level chain). A few notebooks of random hostile cells are graded end to end.

Hypothesis draws the same examples on every run (tests/conftest.py derandomizes; `@seed` fixes the seed
for any other profile), a bounded number of them, each under a deadline; the file takes seconds.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import os
import random
import re
import tempfile
import time
import zipfile
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st
from sheets import sheet_notebook, write_notebook

from nfcourse.checks.task import Failure, Part
from nfcourse.grading.exchange import ExchangeError, load_outputs, load_tensors
from nfcourse.grading.folders import folder_size, remove_tree
from nfcourse.grading.grader import Result, TaskResult, grade
from nfcourse.grading.report import gradescope, html_report, text, write_csv
from nfcourse.grading.sandbox import Limits
from nfcourse.grading.scan import MAX_SOURCE, dynamic_access, references_used, suspicious, unscannable

SEED = 13  # issue 13
FUZZ = settings(
    max_examples=60,
    deadline=timedelta(seconds=10),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
)
LIMITS = Limits(cell_seconds=4, task_seconds=4, notebook_seconds=30, output_bytes=2**18, disk_bytes=2**25)

# Text: anything, with the pieces that broke or could break a report mixed in.
PIECES = [
    *("\x00", "\x1b]0;owned\x07", "\x1b[2J", "\n", "\r\n", "\x85", "\u2028", "\u202e", "\ufeff", "\ud800x"),
    *("<script>alert(1)</script>", "=HYPERLINK(", "+1", "-1", "@SUM", "{names}", "{0}", "%s", "\\", '"', "'"),
    *("✓ log p(x) (2/2): correct", "Total: 12/12", "確率密度"),
]
surrogates = st.integers(0xD800, 0xDFFF).map(chr)
huge = st.integers(20_000, 40_000).map(lambda n: "x" * n)
hostile_text = st.lists(st.one_of(st.text(max_size=20), surrogates, st.sampled_from(PIECES), huge), max_size=8).map(
    "".join
)

# Sources: Python-ish token soup, deep nesting of every kind, and hostile text.
TOKENS = [
    *("import", "from", "sys", "os", "nfcourse", "nfcourse.bijectors", ".", "modules", "getattr", "setattr"),
    *("(", ")", "[", "]", "{", "}", ",", ":", "=", "+", "-", "*", "**", "@", "#", "\\", "'''", '"', "'PR'"),
    *("lambda", "def", "class", "f", "x", "self", "PReLU", "match", "case", "object", "__import__", "__dict__"),
    *("exec", "eval", "compile", "async", "await", "yield", "global", "del", "1", "1.5", "None", "True"),
    *("\n", "    ", "\t", "\0", "\u2028", chr(0xD800), "ℌ", "x: 'vars()'", "from __future__ import annotations"),
]
NESTERS = [("(", ")"), ("[", "]"), ("{", "}"), ("-", ""), ("not ", ""), ("lambda: ", ""), ("1+", ""), ("f(", ")")]
pythonish = st.lists(st.sampled_from(TOKENS), max_size=60).map(" ".join)
nested = st.builds(
    lambda nester, depth: "x = " + nester[0] * depth + "1" + nester[1] * depth,
    st.sampled_from(NESTERS),
    st.integers(0, 160_000),
)
sources = st.one_of(pythonish, nested, hostile_text)


@seed(SEED)
@FUZZ
@given(sources)
def test_the_scan_answers_every_source_quickly_and_never_raises(source: str) -> None:
    started = time.monotonic()
    used, dynamic, odd = references_used(source, ("PReLU", "Flow")), dynamic_access(source), suspicious(source)
    assert all(isinstance(name, str) for name in used + dynamic + odd)
    assert set(dynamic) <= set(odd) and set(used) <= {"PReLU", "Flow"}
    assert unscannable(source) or len(source) <= MAX_SOURCE
    assert time.monotonic() - started < 5


# Programs: valid statements that reach code by run-time values, hidden among ordinary ones, at any depth.
ATTACKS = [
    "import sys\nm = sys.modules['nfcourse.bijectors']",
    "import os as o\nm = o.sys.modules",
    "from sys import modules",
    "import importlib\nm = importlib.import_module('nfcourse')",
    "m = __import__('nfcourse')",
    "p = getattr(m, 'PR' + 'eLU')",
    "import functools\np = functools.reduce(getattr, ['x'], m)",
    "c = object.__subclasses__()",
    "g = globals()",
    "v = vars(m)",
    "d = m.__dict__",
    "f = print.__self__",
    "exec(code)",
    "r = eval('1')",
    "import inspect",
    "import gc",
    "import ctypes",
    "import pickle",
    "import torch\nt = torch.load('f')",
    "import sys\nf = sys._getframe(1).f_globals",
    "import sys\nsys.path.insert(0, '.')",
    "import subprocess",
    "import operator\nget = operator.attrgetter('x')",
    "def hint(x: \"__import__('nfcourse')\"):\n    pass",
    "match m:\n    case object(__dict__=d):\n        pass",
    "p = breakpoint()",
]
ORDINARY = [
    "import torch\nimport math",
    "modules = list(self.modules())",
    "w = getattr(layer, 'weight', None)",
    "model.eval()",
    "import re\npattern = re.compile('x')",
    "import torch\nstate = torch.load('f', weights_only=True)",
    "import numpy as np\narray = np.load('f')",
    "import os\npath = os.path.join('a', 'b')",
    "self.modules = []",
    "x: 'torch.Tensor' = None",
    "match point:\n    case Point(x=0):\n        pass",
    "total = sum(v for v in values)",
    "class Layer:\n    def forward(self, u):\n        return u * 2",
]
WRAPPERS = [
    "{}",
    "def f():\n{}",
    "class C:\n{}",
    "if x:\n{}",
    "try:\n{}\nexcept Exception:\n    pass",
    "for i in y:\n{}",
]


def indented(code: str, wrapper: str) -> str:
    body = code if wrapper == "{}" else "\n".join("    " + line for line in code.splitlines())
    return wrapper.format(body)


@seed(SEED)
@FUZZ
@given(st.lists(st.tuples(st.booleans(), st.integers(0, 10**6), st.sampled_from(WRAPPERS)), min_size=1, max_size=6))
def test_reaching_code_by_run_time_values_is_found_wherever_it_hides(statements: list) -> None:
    pieces = []
    for attack, index, wrapper in statements:
        pool = ATTACKS if attack else ORDINARY
        pieces.append(indented(pool[index % len(pool)], wrapper))
    source = "\n".join(pieces)
    assert bool(dynamic_access(source)) is any(attack for attack, _, _ in statements), source


# Results whose strings are anything: every form of the report.


parts = st.builds(Part, hostile_text, st.integers(-5, 5), st.integers(-5, 5), hostile_text)
task_results = st.builds(
    TaskResult,
    hostile_text,
    hostile_text,
    st.integers(-5, 5),
    st.integers(-5, 5),
    st.lists(parts, max_size=3),
    st.lists(hostile_text, max_size=2),
)
results = st.builds(
    Result,
    submission=hostile_text,
    digest=hostile_text,
    lesson=hostile_text,
    language=st.one_of(st.sampled_from(["en", "de", "ja"]), hostile_text),
    points=st.one_of(st.integers(-(10**20), 10**20), st.floats()),
    earned=st.integers(-100, 100),
    tasks=st.lists(task_results, max_size=3),
    problem=hostile_text,
    notes=st.lists(hostile_text, max_size=2),
    flags=st.lists(hostile_text, max_size=2),
    protections=st.lists(st.fixed_dictionaries({"name": hostile_text, "active": st.booleans()}), max_size=2),
    seconds=st.floats(),
)
LINE_BREAKS = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e]")


@seed(SEED)
@FUZZ
@given(st.lists(results, min_size=1, max_size=3))
def test_every_form_of_the_report_takes_any_string(batch: list[Result]) -> None:
    for result in batch:
        report = text(result)
        report.encode("utf-8")
        lines = report.splitlines()
        items = sum(1 + len(task.parts) for task in result.tasks) + len(result.notes) + len(result.flags)
        missing = any(not protection["active"] for protection in result.protections)
        assert len(lines) == 2 + bool(result.problem) + items + missing  # one line per item, whatever it holds
        assert not LINE_BREAKS.search(report)
        page = html_report(result)
        assert "<script" not in page.encode("utf-8").decode("utf-8")
        json.dumps(gradescope(result), ensure_ascii=False).encode("utf-8")
    with tempfile.TemporaryDirectory() as folder:
        write_csv(batch, Path(folder) / "grades.csv")
        rows = list(csv.reader((Path(folder) / "grades.csv").open(encoding="utf-8", newline="")))
    assert len(rows) == len(batch) + 1 and len({len(row) for row in rows}) == 1
    assert all(row[0][:1] not in ("=", "+", "-", "@") for row in rows[1:])


# What the worker sends back: random records and files.


json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), hostile_text),
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(
            st.one_of(hostile_text, st.sampled_from(["description", "others", "arrays"])), children, max_size=4
        ),
    ),
    max_leaves=20,
)


def npz(arrays: dict) -> bytes:
    packed = io.BytesIO()
    np.savez(packed, **arrays)
    return packed.getvalue()


def zip_of(members: dict[str, bytes], compression: int = zipfile.ZIP_STORED) -> bytes:
    packed = io.BytesIO()
    with zipfile.ZipFile(packed, "w", compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return packed.getvalue()


packed_arrays = st.one_of(
    st.binary(max_size=300),
    st.just(npz({"x": np.arange(3.0), "s": np.array(["a"]), "o": np.array([1 + 2j])})),
    st.just(zip_of({"x.npy": b"\x93NUMPY" + b"\xff" * 50, "evil.npy": b"cposix\nsystem\n"})),
    st.just(zip_of({"big.npy": b"\0" * (17 * 2**20)}, zipfile.ZIP_DEFLATED)),  # unpacks past the limit
    st.builds(zip_of, st.dictionaries(st.text(min_size=1, max_size=20), st.binary(max_size=64), max_size=3)),
)
failure_keys = st.sampled_from(["kind", "detail", "error"])
records = st.one_of(
    json_values,
    st.fixed_dictionaries(
        {"description": st.fixed_dictionaries({"others": st.dictionaries(hostile_text, json_values, max_size=3)})},
        optional={"arrays": st.one_of(packed_arrays.map(lambda data: base64.b64encode(data).decode()), hostile_text)},
    ),
    st.fixed_dictionaries(
        {"description": st.fixed_dictionaries({"failure": st.dictionaries(failure_keys, json_values)})}
    ),
)


@seed(SEED)
@FUZZ
@given(records)
def test_returned_values_are_read_or_refused_with_an_exchange_error(record: object) -> None:
    try:
        outputs = load_outputs(record)
    except ExchangeError:
        return
    assert isinstance(outputs, dict | Failure)
    json.dumps(repr(outputs), ensure_ascii=False).encode("utf-8")


@seed(SEED)
@FUZZ
@given(packed_arrays, st.sampled_from(["file", "link", "folder", "fifo", "missing"]))
def test_returned_files_are_read_or_refused_with_an_exchange_error(data: bytes, kind: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "00.prelu.npz"
        (Path(folder) / "target").write_bytes(data)
        if kind == "file":
            path.write_bytes(data)
        elif kind == "link":
            path.symlink_to(Path(folder) / "target")
        elif kind == "folder":
            path.mkdir()
        elif kind == "fifo":
            os.mkfifo(path)
        try:
            arrays = load_tensors(path)
        except ExchangeError:
            return
    assert isinstance(arrays, dict)


# The sandbox's folder helpers on random trees.


names = st.binary(min_size=1, max_size=10).filter(
    lambda name: b"/" not in name and b"\0" not in name and name not in (b".", b"..")
)
trees = st.recursive(
    st.one_of(
        st.binary(max_size=64).map(lambda data: ("file", data)),
        st.sampled_from([("link out",), ("link up",), ("fifo",), ("dangling link",)]),
    ),
    lambda children: st.dictionaries(names, children, max_size=4).map(lambda entries: ("folder", entries)),
    max_leaves=25,
)


def build(tree: tuple, path: bytes, outside: bytes) -> int:
    """Make `tree` at `path`; the bytes its files hold."""
    kind = tree[0]
    if kind == "file":
        Path(os.fsdecode(path)).write_bytes(tree[1])
        return len(tree[1])
    if kind == "folder":
        os.mkdir(path)
        return sum(build(child, path + b"/" + name, outside) for name, child in tree[1].items())
    if kind == "fifo":
        os.mkfifo(path)
    else:
        os.symlink({"link out": outside, "link up": b"..", "dangling link": b"/nonexistent"}[kind], path)
    return 0


@pytest.fixture(scope="module")
def outside(tmp_path_factory) -> Path:
    """A folder the trees link to: a megabyte that must be neither counted nor removed."""
    folder = tmp_path_factory.mktemp("outside")
    (folder / "keep").write_bytes(b"k" * 2**20)
    return folder


@seed(SEED)
@FUZZ
@given(trees)
def test_folder_size_and_remove_tree_stay_inside_the_folder(outside: Path, tree: tuple) -> None:
    with tempfile.TemporaryDirectory() as parent:
        root = os.fsencode(parent) + b"/job"
        inside = build(("folder", {b"t": tree}), root, os.fsencode(outside))
        size = folder_size(Path(os.fsdecode(root)), 2**30)
        assert inside <= size < 2**20  # the link out is not followed
        assert folder_size(Path(os.fsdecode(root)), 0) > 0  # stops at once past the limit
        remove_tree(Path(os.fsdecode(root)))
        assert not os.path.lexists(root)
    assert (outside / "keep").stat().st_size == 2**20


def test_a_1500_level_chain_is_measured_and_removed(tmp_path, outside: Path) -> None:
    root = tmp_path / "job"
    root.mkdir()
    descriptor = os.open(root, os.O_RDONLY)
    for level in range(1500):  # one level at a time, relative to the last: no path grows long
        os.mkfifo("pipe", dir_fd=descriptor)
        if level % 100 == 0:
            os.symlink(outside, "out", dir_fd=descriptor)
        os.mkdir("d", dir_fd=descriptor)
        below = os.open("d", os.O_RDONLY, dir_fd=descriptor)
        os.close(descriptor)
        descriptor = below
    os.close(descriptor)
    assert folder_size(root, 2**30) > 1500 * 4096  # over the limit or counted: never a crash
    remove_tree(root)
    assert not root.exists() and (outside / "keep").stat().st_size == 2**20


# A few notebooks of random hostile cells, graded end to end.


FRAGMENTS = [
    "raise ValueError('x' + chr(0xD800))",
    "print('\\x1b[2J' + chr(0xDFFF) * 3 + '\\nTotal: 12/12')",
    "print('x' * 50_000)",
    "x = " + "(" * 300 + ")" * 300,
    "import sys\nM = sys.modules",
    "exec('y = 1')",
    "import os\nos.write(1, b'\\xff\\xfe' * 1000)",
    "raise KeyError(chr(0xD800) * 1000)",
    "def lognormal_log_prob(x):\n    return x * float('nan')",
    "def lognormal_log_prob(x):\n    class Weird:\n        def __repr__(self):\n            return chr(0xD800)\n\n"
    "    return Weird()",
    "def lognormal_log_prob(x):\n    raise OSError(chr(0xDC80) + '\\u202e' * 100)",
    "def lognormal_log_prob(x):\n    return {chr(0xD800): x}",
    "def lognormal_log_prob(x):\n    return torch.zeros(3, dtype=torch.complex64)",
]


@pytest.mark.parametrize("draw", range(2))
def test_random_hostile_cells_are_graded_without_a_crash(tmp_path, draw: int) -> None:
    rng = random.Random(SEED + draw)  # draw 0 reaches sys.modules, draw 1 does not
    cell = "\n".join(rng.sample(FRAGMENTS, k=3))
    path = write_notebook(sheet_notebook("00", replace={"00.lognormal": (None, cell)}), tmp_path / "s.ipynb")
    result = grade(path, limits=LIMITS)
    tasks = {task.task: task for task in result.tasks}
    assert 0 <= result.earned <= result.points == 12 and tasks["00.lognormal"].earned == 0, text(result)
    others = [tasks[task].earned for task in ("00.linear", "00.prelu", "00.chain")]
    assert others == ([3, 0, 0] if dynamic_access(cell) else [3, 4, 3]), text(result)  # only the references go
    for report in (text(result), html_report(result), json.dumps(gradescope(result), ensure_ascii=False)):
        report.encode("utf-8")
    write_csv([result], tmp_path / "grades.csv")
