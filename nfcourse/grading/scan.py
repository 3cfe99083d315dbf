"""Reading the learner's solution cells (never running them) for what the instructor should look at.

Two kinds of findings:
  - a task's reference implementation from the library (`Task.references`, e.g. `PReLU` for the PReLU
    task) imported in any solution cell (a star import counts): the task asks for the learner's own; the
    grader withholds its points;
  - code that reaches beyond a sheet's business (processes, signals, sockets, native code, running
    strings as code): flagged for the instructor only, since the sandbox already contains it.
"""

from __future__ import annotations

import ast

SUSPICIOUS_MODULES = {"ctypes", "subprocess", "socket", "importlib", "multiprocessing", "signal", "resource", "pickle"}
SUSPICIOUS_CALLS = {
    "exec",
    "eval",
    "compile",
    "__import__",
    "import_module",
    "system",
    "popen",
    "fork",
    "kill",
    "getattr",
}


def imported_names(tree: ast.AST) -> dict[str, str]:
    """Local name -> module for every import in `tree`."""
    names = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.asname or alias.name.split(".")[0]: alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            names |= {alias.asname or alias.name: node.module or "" for alias in node.names}
    return names


def references_used(source: str, references: tuple[str, ...]) -> list[str]:
    """Which of the library names `references` the code takes from nfcourse."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return []
    imports = imported_names(tree)
    uses_library = any(module.startswith("nfcourse") for module in imports.values())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("nfcourse"):
            names = {alias.name for alias in node.names}
            found |= set(references) if "*" in names else names & set(references)
        elif isinstance(node, ast.Attribute) and node.attr in references and uses_library:
            found.add(node.attr)
    return sorted(found)


def suspicious(source: str) -> list[str]:
    """Modules and calls in the code that a sheet never needs, e.g. ["subprocess", "exec"]."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return []
    found = {module.split(".")[0] for module in imported_names(tree).values()} & SUSPICIOUS_MODULES
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            function = node.func
            name = function.id if isinstance(function, ast.Name) else getattr(function, "attr", "")
            if name in SUSPICIOUS_CALLS:
                found.add(name)
    return sorted(found)
