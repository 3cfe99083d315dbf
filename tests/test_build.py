"""The generated notebooks: up to date, deterministic, the same code in every language, exercises complete."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest

from nfcourse.checks import TASKS
from tools import build
from tools.lessons import LANGUAGES, ROOT, lesson_folders

GENERATED = build.outputs()
NOTEBOOKS = sorted(path for path in GENERATED if path.parent.parent.name in build.OUTPUTS)


def load(kind: str, lang: str, lesson: str) -> nbformat.NotebookNode:
    return nbformat.reads(GENERATED[ROOT / kind / lang / f"{lesson}.ipynb"], as_version=4)


def test_every_generated_file_is_up_to_date() -> None:
    stale = [str(path.relative_to(ROOT)) for path, text in GENERATED.items() if not build.is_current(path, text)]
    assert not stale, f"run `python -m tools.build`: out of date: {stale}"


def test_up_to_date_means_the_same_content_not_the_same_bytes() -> None:
    """A tool release that writes the same notebook differently (indentation, minor version) changes nothing."""
    path = ROOT / "notebooks" / "en" / "00_recap.ipynb"
    text = GENERATED[path]
    rewritten = json.loads(text)
    rewritten["nbformat_minor"] = 99
    assert build.is_current(path, json.dumps(rewritten, indent=4, sort_keys=False))
    rewritten["cells"][-1]["source"] = "changed"
    assert not build.is_current(path, json.dumps(rewritten))


def test_no_generated_folder_holds_a_notebook_that_no_source_makes() -> None:
    assert set(build.generated_now()) <= set(GENERATED)


def test_building_twice_gives_the_same_bytes() -> None:
    assert build.outputs() == GENERATED


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: str(p.relative_to(ROOT)))
def test_generated_notebook_is_valid_without_outputs_and_with_stable_ids(path: Path) -> None:
    notebook = nbformat.reads(GENERATED[path], as_version=4)
    nbformat.validate(notebook)
    assert all(not cell.get("outputs") and not cell.get("execution_count") for cell in notebook.cells)
    ids = [cell.id for cell in notebook.cells]
    assert len(set(ids)) == len(ids) and ids[:2] == [build.HEADER_KEY, build.SETUP_KEY]
    assert f'set_language("{notebook.metadata["nfcourse"]["language"]}")' in notebook.cells[1].source


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: str(p.relative_to(ROOT)))
def test_header_links_point_to_existing_notebooks(path: Path) -> None:
    header = nbformat.reads(GENERATED[path], as_version=4).cells[0].source
    targets = [part.split(")")[0] for part in header.split("](")[1:]]
    assert len(targets) == 5  # two other languages, two other kinds, the course map
    assert all((path.parent / target).resolve() in GENERATED for target in targets), targets


@pytest.mark.parametrize("lesson", [folder.name for folder in lesson_folders()])
@pytest.mark.parametrize("kind", ["notebooks", "exercises", "solutions"])
def test_code_cells_are_identical_across_languages(lesson: str, kind: str) -> None:
    """Only the language cell and the docstrings of task cells (translated for the sheet) may differ."""

    def code(lang: str) -> list[tuple[str, str]]:
        cells = load(kind, lang, lesson).cells
        return [
            (c.id, c.source)
            for c in cells
            if c.cell_type == "code" and c.id != build.SETUP_KEY and not c.metadata.get("nbgrader", {}).get("solution")
        ]

    english = code("en")
    assert english and all(code(lang) == english for lang in LANGUAGES)


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("lesson", [folder.name for folder in lesson_folders()])
def test_every_task_has_a_stub_a_solution_and_a_graded_self_check(lesson: str, lang: str) -> None:
    exercise, solution = load("exercises", lang, lesson), load("solutions", lang, lesson)
    assert [c.id for c in exercise.cells] == [c.id for c in solution.cells]
    checked = []
    for blank, solved, following in zip(exercise.cells, solution.cells, solution.cells[1:], strict=False):
        grading = solved.metadata.get("nbgrader", {})
        if grading.get("solution"):
            assert "raise NotImplementedError" in blank.source and "BEGIN SOLUTION" not in blank.source
            assert "### BEGIN SOLUTION" in solved.source and "### END SOLUTION" in solved.source
            task_id = solved.metadata["nfcourse"]["task"]
            check = next(
                c for c in solution.cells[solution.cells.index(solved) :] if c.metadata.get("nbgrader", {}).get("grade")
            )
            assert check.metadata["nfcourse"] == {"task": task_id, "role": "check"}
            assert (
                check.metadata["nbgrader"]["points"] == TASKS[task_id].points and check.metadata["nbgrader"]["locked"]
            )
            checked.append(task_id)
        assert following is not None
    tasks = {task for task in TASKS if task.startswith(lesson[:2] + ".")}
    assert set(checked) == tasks


def test_course_map_lists_every_lesson_in_every_language() -> None:
    index = json.loads(GENERATED[ROOT / "index.ipynb"])
    sections = ["".join(cell["source"]) for cell in index["cells"]]
    assert len(sections) == len(LANGUAGES)
    for folder in lesson_folders():
        for lang, section in zip(LANGUAGES, sections, strict=True):
            assert f"notebooks/{lang}/{folder.name}.ipynb" in section
    readme = GENERATED[ROOT / "README.md"]
    assert all(f"notebooks/{lang}/" in readme for lang in LANGUAGES)


def test_building_one_lesson_makes_only_its_files() -> None:
    files = build.outputs(["00_recap"])
    assert files and all("00_recap" in path.name for path in files)  # no course map, no other lesson
    assert files == {path: text for path, text in build.outputs().items() if path in files}
