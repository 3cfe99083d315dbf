"""pytest for the whole repository: German and Japanese notebooks may not print English the catalogs translate.

nbval runs every notebook cell as a test item and keeps the cell's outputs on the item (`test_outputs`).
After each passed cell of a notebook in `notebooks/`, `exercises/` or `solutions/` under `de/` or `ja/`,
this hook hands those outputs to `tools.output_language.problems` and fails the cell if they hold English.
"""

from __future__ import annotations

import pytest

from tools import output_language
from tools.lessons import OUTPUTS, TRANSLATED


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):  # noqa: ANN201 (a pytest hook wrapper)
    outcome = yield
    report = outcome.get_result()
    path = item.path
    notebook_of_a_language = path.suffix == ".ipynb" and path.parent.name in TRANSLATED
    if call.when != "call" or not report.passed or not notebook_of_a_language or path.parent.parent.name not in OUTPUTS:
        return
    outputs = getattr(item, "test_outputs", None)
    if outputs is None:
        found = ["nbval kept no outputs on this cell (test_outputs): the language check cannot see them"]
    else:
        found = output_language.problems(outputs, path.parent.name)
    if found:
        report.outcome = "failed"
        report.longrepr = f"{path.name}: the {path.parent.name} notebook printed English:\n  " + "\n  ".join(found)
