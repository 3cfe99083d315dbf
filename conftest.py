"""pytest for the whole repository: keep what each notebook run printed, and check its language.

nbval runs every code cell of a notebook as a test item, all in one kernel, and keeps the cell's outputs on
the item (`test_outputs`). After each cell of a generated notebook (`notebooks/`, `exercises/`,
`solutions/`) two hooks look at them:

- in the `de/` and `ja/` notebooks, `tools.output_language.problems` fails the cell if its outputs hold English;
- once a notebook's last code cell has run and every cell passed, the notebook with these outputs is saved
  under `build/executed/<mode>/` of pytest's root folder (`tools.executed`), for the website; a failed cell
  removes the saved copy.
  xdist's `--dist loadscope` keeps all cells of a notebook on one worker, so one process sees them all.
"""

from __future__ import annotations

import pytest

from tools import executed, output_language
from tools.lessons import OUTPUTS, TRANSLATED

RUN = pytest.StashKey[dict[int, list]]()  # on a notebook's collector: code cell number -> outputs so far


def is_generated_notebook_cell(item: pytest.Item) -> bool:
    path = item.path
    return hasattr(item, "test_outputs") and path.suffix == ".ipynb" and path.parent.parent.name in OUTPUTS


def language_problems(item: pytest.Item) -> list[str]:
    """What in the outputs of a German or Japanese notebook's cell is English (nothing for English notebooks)."""
    language = item.path.parent.name
    if language not in TRANSLATED:
        return []
    if item.test_outputs is None:
        return ["nbval kept no outputs on this cell (test_outputs): the language check cannot see them"]
    return output_language.problems(item.test_outputs, language)


def keep_outputs(item: pytest.Item, report: pytest.TestReport) -> None:
    """Collect the cell's outputs; after the notebook's last code cell, save the executed notebook."""
    notebook_file = item.parent
    mode = executed.current_mode()
    run = notebook_file.stash.setdefault(RUN, {})
    if report.failed:
        run[item.cell_num] = None  # the notebook is not saved, and a copy from an earlier run goes
        executed.discard(item.path, mode, item.config.rootpath)
        return
    run[item.cell_num] = item.test_outputs or []
    code_cells = sum(cell.cell_type == "code" for cell in notebook_file.nb.cells)
    if item.cell_num == code_cells - 1 and all(run.get(number) is not None for number in range(code_cells)):
        outputs = [run[number] for number in range(code_cells)]
        notebook = executed.with_outputs(notebook_file.nb, outputs, mode)
        executed.write(item.path, notebook, item.config.rootpath)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):  # noqa: ANN201 (a pytest hook wrapper)
    outcome = yield
    report = outcome.get_result()
    if call.when != "call" or not is_generated_notebook_cell(item):
        return
    found = language_problems(item) if report.passed else []
    if found:
        report.outcome = "failed"
        report.longrepr = f"{item.path.name}: the {item.path.parent.name} notebook printed English:\n  " + "\n  ".join(
            found
        )
    keep_outputs(item, report)
