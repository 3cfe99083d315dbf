"""Answers for the self-check tests, taken from the lesson sources themselves.

`answers(lesson, variant)` executes the sheet's code cells the way a learner's notebook would: the solved
sheet (`"solution"`), the blank exercise sheet (`"blank"`), or the solved sheet with one text replacement
(a seeded mistake), and returns the namespace that holds the answers.
"""

from __future__ import annotations

import json
from pathlib import Path

from tools.lessons import LESSONS, ROOT, read, stub

MISTAKES = [  # also graded through the sandbox in test_grading.py
    # (task, replacement in the solution, points it keeps, words that must name the mistake)
    ("00.lognormal", ("- torch.log(x)\n", "+ torch.log(x)\n"), 0, "wrong sign"),
    ("00.lognormal", ("- torch.log(x)\n", "\n"), 0, "log-det term is missing"),
    (
        "00.lognormal",
        (
            "return -0.5 * u**2 - 0.5 * math.log(2 * math.pi) - torch.log(x)",
            "return 1 / x * torch.exp(-0.5 * u**2) / math.sqrt(2 * math.pi)",
        ),
        0,
        "not its logarithm",
    ),
    ("00.linear", ("- torch.linalg.slogdet(W).logabsdet", "+ torch.linalg.slogdet(W).logabsdet"), 0, "wrong sign"),
    ("00.linear", ("- torch.linalg.slogdet(W).logabsdet", "- torch.log(torch.linalg.det(W))"), 0, "absolute value"),
    ("00.linear", ("torch.linalg.solve(W, (x - b).T).T", "(x - b) @ W.T"), 0, "u = W^-1 (x - b)"),
    ("00.linear", ("torch.linalg.solve(W, (x - b).T).T", "torch.linalg.solve(W.T, (x - b).T).T"), 0, "W^-T (x - b)"),
    ("00.linear", ("- 0.5 * x.shape[1] * math.log(2 * math.pi)", ""), 0, "constant of log N(u; 0, I) is missing"),
    ("00.lognormal", ("- 0.5 * math.log(2 * math.pi)", ""), 0, "constant of log N(u; 0, I) is missing"),
    ("00.chain", ("- 0.5 * x.shape[1] * math.log(2 * math.pi)", ""), 0, "constant of log N(u; 0, I) is missing"),
    ("00.prelu", ("return x, negative.sum(dim=1)", "return x, -negative.sum(dim=1)"), 3, "wrong sign"),
    ("00.prelu", ("negative = u < 0", "negative = u > 0"), 2, "positive entries"),
    ("00.prelu", ("x / self.slope, x)", "x * self.slope, x)"), 3, "must divide"),
    ("00.prelu", ("-negative.sum(dim=1) * math", "-1.0 * negative * math"), 3, "sum over the dimensions"),
    ("00.chain", ("reversed(layers)", "layers"), 0, "last layer first"),
    ("00.chain", ("logdet = logdet + step", "logdet = logdet - step"), 0, "must be added"),
    (
        "00.chain",
        ("return -0.5 * (x**2).sum(dim=1) - 0.5 * x.shape[1] * math.log(2 * math.pi) + logdet", "return logdet"),
        0,
        "base density",
    ),
]


def sheet_notebook(lesson: str, language: str = "en", kind: str = "solutions", replace: dict | None = None) -> dict:
    """A generated sheet as JSON, with text replaced in the solution cells of some tasks ({task: (old, new)});
    `old=None` replaces the whole cell."""
    path = next((ROOT / kind / language).glob(f"{lesson}_*.ipynb"))
    notebook = json.loads(path.read_text(encoding="utf-8"))
    for cell in notebook["cells"]:
        role = cell["metadata"].get("nfcourse", {})
        if role.get("role") == "solution" and role["task"] in (replace or {}):
            old, new = replace[role["task"]]
            source = "".join(cell["source"])
            assert old is None or old in source, (role["task"], old)
            cell["source"] = new if old is None else source.replace(old, new)
    return notebook


def write_notebook(notebook: dict, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(notebook, ensure_ascii=False), encoding="utf-8")
    return path


def answers(lesson: str, variant: str = "solution", replace: tuple[str, str] | None = None) -> dict[str, object]:
    source = read(next(LESSONS.glob(f"{lesson}_*")) / "sheet.py")
    namespace: dict[str, object] = {}
    for cell in source.cells:
        if cell.kind != "code" or cell.is_check or cell.key == "points-code":
            continue
        code = stub(cell.source) if variant == "blank" and cell.is_task else cell.source
        if replace is not None and cell.is_task:
            code = code.replace(*replace)
        exec(compile(code, f"{source.path}:{cell.key}", "exec"), namespace)
    return namespace
