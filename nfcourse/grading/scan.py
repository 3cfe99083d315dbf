"""Reading the learner's solution cells (never running them) for what the grader and the instructor should know.

One bounded reading of each cell (`read`) gives three findings:
  - `references_used`: a task's reference implementation (`Task.references`, e.g. `PReLU` for the PReLU
    task) taken from the library by its name: imported from nfcourse (a star import counts), or read as an
    attribute of that name anywhere (`nb.PReLU`, `getattr(nb, "PReLU")`, a `case object(PReLU=p)` pattern),
    since the library's modules reach a cell in more ways than its own imports;
  - `dynamic_access`: code that reaches modules, namespaces, frames or attributes through values computed
    at run time: `sys.modules`, `importlib`, `__import__`, `getattr` with a computed name, `globals()`,
    `__dict__`, `__subclasses__`, function and frame internals, `exec`, deserializers that import by name
    (pickle), child processes, `sys.path`. Such code can fetch the reference without ever naming it, and
    no reading can rule that out, so the grader withholds the points of every task with references when
    any solution cell does it;
  - `suspicious`: all of that, and code that reaches beyond a sheet's business in other ways (signals,
    sockets, killing processes), flagged for the instructor only.
A cell longer than `MAX_SOURCE` characters, or one that Python's parser cannot turn into a tree within its
limits (nested too deeply: RecursionError, MemoryError), or that holds text no file can (a lone surrogate)
is *unscannable*; the grader treats it like dynamic access. A cell with a syntax error reads as empty:
Python cannot run it either. String annotations are read as the code they are (`typing.get_type_hints`
and `functools.singledispatch` evaluate them). The lists below name the ways known to the authors; a new
one belongs here.
"""

from __future__ import annotations

import ast
import re
import threading
import warnings
from collections import deque
from dataclasses import dataclass, field
from functools import lru_cache

MAX_SOURCE = 100_000  # characters; parsing a longer cell costs the grader seconds and hundreds of MB

# Modules that exist to reach code, objects or namespaces by a run-time value: importers, reflection,
# native memory, deserializers that import classes by name, interpreters of strings, child processes.
# They count wherever they appear: imported, or reached as an attribute (`torch.multiprocessing`).
DYNAMIC_MODULES = frozenset(
    {
        *("builtins", "importlib", "imp", "_imp", "pkgutil", "pkg_resources", "runpy", "zipimport", "pydoc"),
        *("_frozen_importlib", "_frozen_importlib_external", "__main__", "gc", "inspect", "ctypes", "_ctypes"),
        *("marshal", "copyreg", "shelve", "dill", "joblib", "yaml", "codeop", "timeit", "doctest", "pdb", "bdb"),
        *("cProfile", "subprocess", "multiprocessing", "pty"),
    }
)
# Modules of the same kind whose names are common words (a variable `code`): they count when imported.
DYNAMIC_IMPORTS = DYNAMIC_MODULES | {"code", "trace", "profile", "site", "mock"}
# Names and attributes that do the same, wherever they appear (`print.__self__` is the builtins module).
DYNAMIC_NAMES = frozenset(
    {
        *("__import__", "__builtins__", "__dict__", "__subclasses__", "__getattribute__", "__globals__"),
        *("__closure__", "__code__", "__defaults__", "__kwdefaults__", "__wrapped__", "__self__", "__loader__"),
        *("__spec__", "_getframe", "_current_frames", "currentframe", "f_globals", "f_locals", "f_builtins"),
        *("f_back", "tb_frame", "gi_frame", "cr_frame", "ag_frame", "meta_path", "path_hooks"),
        *("path_importer_cache", "import_module", "find_spec", "find_module", "load_module", "exec_module"),
        *("module_from_spec", "resolve_name", "locate", "_import_dotted_name", "_importer", "_get_target"),
        *("_dot_lookup", "attrgetter", "methodcaller", "get_field", "get_type_hints", "ForwardRef", "_eval_type"),
        *("singledispatch", "singledispatchmethod", "dictConfig", "fileConfig", "get_ipython", "breakpointhook"),
        *("popen", "posix_spawn", "posix_spawnp", "startfile", "create_subprocess_exec", "create_subprocess_shell"),
    }
)
PROCESS = re.compile(r"(spawn|exec)[lv]p?e?")  # os.execv, os.spawnlp ... (not `exec`: that is a builtin)
# Builtins that count as names only: an attribute of that name is ordinary (`model.eval()`, `re.compile`).
DYNAMIC_BUILTINS = frozenset({"exec", "eval", "compile", "breakpoint", "globals", "vars", "locals"})
NAMED_ATTRIBUTE = frozenset({"getattr", "setattr", "delattr"})  # ordinary with a constant attribute name
# Module attributes that count (after `import os as o`, `o.system` too): import any file, run a shell, pickle.
DYNAMIC_MEMBERS = frozenset({"sys.path", "sys.modules", "os.system", "torch.load"})
UNUSUAL_MODULES = frozenset({"socket", "signal", "resource"})
UNUSUAL_NAMES = frozenset({"fork", "forkpty", "kill", "killpg"})
LIBRARY = "nfcourse"


@dataclass(frozen=True)
class Reading:
    """What one bounded reading of a cell found (see the module docstring)."""

    scanned: bool = True
    library_names: frozenset[str] = frozenset()  # names imported from nfcourse, "*" for a star import
    attributes: frozenset[str] = frozenset()  # attribute names read, constant getattr names included
    dynamic: frozenset[str] = frozenset()  # how it reaches code by run-time values, e.g. "sys.modules"
    unusual: frozenset[str] = frozenset()  # other modules and calls a sheet never needs


UNSCANNABLE = Reading(scanned=False)


@dataclass
class Findings:
    """The mutable sets one reading fills, and what it has left to parse of string annotations."""

    aliases: dict[str, str]
    budget: int
    library_names: set[str] = field(default_factory=set)
    attributes: set[str] = field(default_factory=set)
    dynamic: set[str] = field(default_factory=set)
    unusual: set[str] = field(default_factory=set)
    excused: set[int] = field(default_factory=set)  # ids of getattr/.modules/torch.load nodes used ordinarily


def read(source: str) -> Reading:
    """The findings of one cell; `UNSCANNABLE` if it cannot be read within the bounds. Never raises."""
    if not isinstance(source, str) or len(source) > MAX_SOURCE:
        return UNSCANNABLE
    return _read(source)


_warnings_lock = threading.Lock()  # warnings filters are global: one thread at a time changes them


@lru_cache(maxsize=256)  # a grade asks for every cell once per task
def _read(source: str) -> Reading:
    try:
        tree = parsed(source)
    except SyntaxError:
        return Reading()  # Python cannot run it either
    except Exception:  # RecursionError, MemoryError, UnicodeEncodeError (a lone surrogate): beyond the bounds
        return UNSCANNABLE
    try:
        return read_tree(tree, budget=MAX_SOURCE - len(source))
    except Exception:  # a tree no one foresaw: never a crash
        return UNSCANNABLE


def parsed(source: str, mode: str = "exec") -> ast.AST:
    """`ast.parse`, with warnings ignored: under `-W error` a warning would raise a SyntaxError here that the
    learner's process, where warnings are only printed, never sees, and the cell would read as empty."""
    with _warnings_lock, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ast.parse(source, mode=mode)


def read_tree(tree: ast.AST, budget: int) -> Reading:
    """Walk the tree breadth-first (no recursion, whatever its depth) and record what each node shows."""
    findings = Findings(module_aliases(tree), budget)
    queue: deque[tuple[ast.AST, bool]] = deque([(tree, False)])
    while queue:
        node, in_annotation = queue.popleft()
        note(node, findings)
        if in_annotation and isinstance(node, ast.Constant) and isinstance(node.value, str):
            findings.budget -= len(node.value)
            if findings.budget < 0:
                return UNSCANNABLE
            queue.append((annotation_tree(node.value), True))
        for name, child in ast.iter_fields(node):
            annotated = in_annotation or name in ("annotation", "returns")
            for item in child if isinstance(child, list) else [child]:
                if isinstance(item, ast.AST):
                    queue.append((item, annotated))
    return Reading(
        True,
        frozenset(findings.library_names),
        frozenset(findings.attributes),
        frozenset(findings.dynamic),
        frozenset(findings.unusual),
    )


def annotation_tree(text: str) -> ast.AST:
    """A string annotation as the code it is: `typing.get_type_hints` and others evaluate it."""
    try:
        return parsed(text, "eval")
    except SyntaxError:
        return ast.Module(body=[], type_ignores=[])  # evaluating it fails


def module_aliases(tree: ast.AST) -> dict[str, str]:
    """Local name -> the module (or module member) an import in `tree` binds it to: `import os.path` binds
    `os` to "os", `import numpy as np` binds `np` to "numpy", `from os import sys` binds `sys` to "os.sys"."""
    names = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.asname or alias.name.split(".")[0]: bound_module(alias) for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            names |= {alias.asname or alias.name: f"{node.module or ''}.{alias.name}" for alias in node.names}
    return names


def bound_module(alias: ast.alias) -> str:
    return alias.name if alias.asname else alias.name.split(".")[0]


def note(node: ast.AST, findings: Findings) -> None:
    """Record what one node shows."""
    if isinstance(node, ast.Import):
        for alias in node.names:
            note_module(alias.name, findings)
    elif isinstance(node, ast.ImportFrom):
        note_import_from(node, findings)
    elif isinstance(node, ast.Call):
        excuse_ordinary_call(node, findings)
    elif isinstance(node, ast.Name):
        note_name(node, findings)
    elif isinstance(node, ast.Attribute):
        note_attribute(node, findings)
    elif isinstance(node, ast.MatchClass):  # `case object(PReLU=p)` reads the attribute PReLU
        for name in node.kwd_attrs:
            note_member_name(name, findings)


def note_module(module: str, findings: Findings) -> None:
    """An imported module: one that reaches code by run-time values, or an unusual one."""
    for part in module.split("."):
        if part in DYNAMIC_IMPORTS or is_dynamic(part):
            findings.dynamic.add(module)
        if part in UNUSUAL_MODULES:
            findings.unusual.add(part)


def note_import_from(node: ast.ImportFrom, findings: Findings) -> None:
    module = node.module or ""
    note_module(module, findings)
    for alias in node.names:
        if module.split(".")[0] == LIBRARY:
            findings.library_names.add(alias.name)
        member = qualified(module, alias.name)
        if alias.name in DYNAMIC_IMPORTS | DYNAMIC_BUILTINS | NAMED_ATTRIBUTE or is_dynamic(alias.name):
            findings.dynamic.add(f"{module}.{alias.name}")
        elif member in DYNAMIC_MEMBERS:
            findings.dynamic.add(member)
        if alias.name in UNUSUAL_NAMES:
            findings.unusual.add(alias.name)


def is_dynamic(name: str) -> bool:
    """True for a name that reaches code by run-time values wherever it appears (a name, an attribute)."""
    return name in DYNAMIC_MODULES or name in DYNAMIC_NAMES or "pickle" in name.lower() or bool(PROCESS.fullmatch(name))


def note_name(node: ast.Name, findings: Findings) -> None:
    if isinstance(node.ctx, ast.Store):
        return  # binding a name of one's own shadows the builtin; it reaches nothing
    computed_name = node.id in NAMED_ATTRIBUTE and id(node) not in findings.excused
    if node.id in DYNAMIC_BUILTINS or is_dynamic(node.id) or computed_name:
        findings.dynamic.add(node.id)
    if node.id in UNUSUAL_NAMES:
        findings.unusual.add(node.id)


def note_attribute(node: ast.Attribute, findings: Findings) -> None:
    excused = id(node) in findings.excused
    member = qualified(dotted(node.value, findings.aliases), node.attr)
    if member in DYNAMIC_MEMBERS and not excused:
        findings.dynamic.add(member)  # `sys.path = [...]` too
    if isinstance(node.ctx, ast.Store):
        return  # `self.modules = ...` names an attribute of one's own
    if node.attr == "modules" and not excused:  # reached from anywhere: `os.sys.modules`
        findings.dynamic.add("sys.modules")
    elif node.attr in NAMED_ATTRIBUTE and not excused:
        findings.dynamic.add(node.attr)
    note_member_name(node.attr, findings)


def note_member_name(name: str, findings: Findings) -> None:
    """An attribute read by its name: a reference's name, or one that reaches code by run-time values."""
    findings.attributes.add(name)
    if is_dynamic(name):
        findings.dynamic.add(name)
    if name in UNUSUAL_NAMES:
        findings.unusual.add(name)


def excuse_ordinary_call(node: ast.Call, findings: Findings) -> None:
    """Mark the ordinary uses of names that are dynamic otherwise: `self.modules()` (an nn.Module's
    submodules, not `sys.modules`), `getattr(obj, "name")` with a constant name (read like `obj.name`),
    and `torch.load(..., weights_only=True)` (no pickle); and note the keywords that ask for pickle."""
    function = node.func
    name = function.id if isinstance(function, ast.Name) else getattr(function, "attr", "")
    keywords = {keyword.arg: keyword.value for keyword in node.keywords}
    if isinstance(function, ast.Attribute) and name == "modules":
        findings.excused.add(id(function))
    elif name in NAMED_ATTRIBUTE and len(node.args) in (2, 3) and not keywords:
        attribute = node.args[1]
        if isinstance(attribute, ast.Constant) and isinstance(attribute.value, str):
            findings.excused.add(id(function))
            note_member_name(attribute.value, findings)
            if attribute.value == "modules":
                findings.dynamic.add("sys.modules")
    elif name == "load" and constant(keywords.get("weights_only")) is True and None not in keywords:
        findings.excused.add(id(function))
    for keyword, value in keywords.items():
        unsafe = (keyword == "weights_only" and constant(value) is not True) or (
            keyword and "pickle" in keyword and constant(value) is not False
        )
        if unsafe:
            findings.dynamic.add(f"{keyword}=...")


def constant(node: ast.AST | None) -> object:
    """The value of a constant node; a fresh object (equal to nothing) for anything else."""
    return node.value if isinstance(node, ast.Constant) else object()


def dotted(node: ast.AST, aliases: dict[str, str]) -> str:
    """`a.b.c` as the module path it names ("" if it is not a chain of names), imports resolved: after
    `import os as o`, `o.sys` is "os.sys"."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return ""
    return ".".join([aliases.get(node.id, node.id), *reversed(parts)])


def qualified(owner: str, name: str) -> str:
    """`owner.name` by the module that holds it: "os.sys" and "path" is "sys.path", "torch.serialization"
    and "load" is "torch.load"; "" where the owner is not such a module."""
    module = {"serialization": "torch", "posix": "os", "nt": "os"}.get(owner.split(".")[-1], owner.split(".")[-1])
    return f"{module}.{name}" if module in ("sys", "os", "torch") else ""


def unscannable(source: str) -> bool:
    """True if the cell cannot be read within the bounds (too long, nested too deeply, not encodable)."""
    return not read(source).scanned


def dynamic_access(source: str) -> list[str]:
    """How the code reaches modules or names through run-time values, e.g. ["getattr", "sys.modules"]."""
    return sorted(read(source).dynamic)


def references_used(source: str, references: tuple[str, ...]) -> list[str]:
    """Which of the library names `references` the code takes from nfcourse by name."""
    reading = read(source)
    imported = set(references) if "*" in reading.library_names else reading.library_names & set(references)
    return sorted(imported | (reading.attributes & set(references)))


def suspicious(source: str) -> list[str]:
    """Modules and calls in the code that a sheet never needs, e.g. ["exec", "subprocess"]."""
    reading = read(source)
    return sorted(reading.dynamic | reading.unusual)
