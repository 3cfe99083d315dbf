"""Build every notebook of the course from lessons/: `python -m tools.build` (add `--check` to only compare).

`python -m tools.build 02_made_maf` builds one lesson's notebooks only (no course map, nothing deleted):
handy while another lesson's source is half written.

For each lesson and language (en, de, ja) it writes

    notebooks/<lang>/NN_slug.ipynb    the lecture                      (from lecture.py)
    exercises/<lang>/NN_slug.ipynb    the exercise sheet, with stubs    (from sheet.py)
    solutions/<lang>/NN_slug.ipynb    the solved sheet, an nbgrader source notebook

and the course map: `index.ipynb` and the table between the course-map markers in README.md, and for the
grader `nfcourse/grading/sheets/NN_slug.json`, the code of each sheet (see nfcourse/grading/sheets.py).
Notebooks have no outputs and stable cell ids (the source keys), so building twice changes nothing and a
test can tell when a generated file is out of date. "Up to date" means the same content (cells, sources,
metadata; the JSON data of a sheet), not the same bytes: a new release of nbformat or jupytext that writes
the same notebook with other whitespace or another minor format version leaves the committed files alone.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import nbformat
from babel.messages.catalog import Catalog

from nfcourse.checks import TASKS
from nfcourse.grading.sheets import FOLDER as SHEETS
from nfcourse.grading.sheets import sheet_data
from nfcourse.i18n import _, using_language
from tools import catalogs
from tools.course_map import course_map_files
from tools.lessons import (
    LANGUAGE_NAMES,
    LANGUAGES,
    OUTPUTS,
    ROOT,
    Cell,
    Source,
    check_task,
    docstring,
    lesson_folders,
    sources,
    stub,
)
from tools.translations import po_path

SETUP_KEY = "nfcourse-language"  # the one code cell that differs between languages
HEADER_KEY = "nfcourse-header"


def kind_name(kind: str) -> str:
    return {"notebooks": _("Lecture"), "exercises": _("Exercises"), "solutions": _("Solutions")}[kind]


def lookup(english: str, context: str, catalog: Catalog | None) -> tuple[str, str]:
    """The text to show for one piece of prose and its state: "current", "missing" or "outdated"."""
    if catalog is None:
        return english, "current"
    message = next((m for m in catalog if m.context == context and m.id), None)
    if message is None or not message.string:
        return english, "missing"
    if message.fuzzy or message.id != english:
        return message.string, "outdated"
    return message.string, "current"


def translate(english: str, context: str, catalog: Catalog | None) -> str:
    """A markdown cell in the catalog's language, with a visible banner when it is missing or outdated."""
    text, state = lookup(english, context, catalog)
    banners = {
        "missing": _("This paragraph is not translated yet; here is the English original."),
        "outdated": _("This paragraph is outdated: the English original has changed since it was translated."),
    }
    return f"> ⚠️ *{banners[state]}*\n\n{text}" if state in banners else text


def header(source: Source, kind: str, lang: str) -> str:
    """Links to the other languages and kinds, and where the notebook comes from."""
    name = f"{source.lesson}.ipynb"
    languages = " · ".join(
        f"**{LANGUAGE_NAMES[other]}**" if other == lang else f"[{LANGUAGE_NAMES[other]}](../{other}/{name})"
        for other in LANGUAGES
    )
    kinds = " · ".join(
        f"**{kind_name(other)}**" if other == kind else f"[{kind_name(other)}](../../{other}/{lang}/{name})"
        for other in OUTPUTS
    )
    course_map = "[{label}](../../index.ipynb)".format(label=_("Course map"))
    origin = _("Generated from {source}; edit that file, not this notebook.").format(
        source=f"`{source.path.relative_to(ROOT)}`"
    )
    return f"{languages} | {kinds} | {course_map}\n\n<small>{origin}</small>"


def nbgrader(key: str, is_task: bool = False, task_id: str | None = None) -> dict:
    """nbgrader's metadata for a sheet cell: solutions editable, self-checks graded, everything else locked."""
    base = {"grade_id": key, "schema_version": 3}
    if is_task:
        return {**base, "grade": False, "solution": True, "locked": False}
    if task_id is not None:
        return {**base, "grade": True, "solution": False, "locked": True, "points": TASKS[task_id].points}
    return {**base, "grade": False, "solution": False, "locked": True}


def sheet_roles(source: Source) -> dict[str, str]:
    """Task id of every task and check cell: a task cell belongs to the check cell that follows it."""
    roles, pending = {}, []
    for cell in source.cells:
        if cell.is_task:
            pending.append(cell.key)
        elif cell.is_check:
            task_id, _answer = check_task(cell)
            roles |= {key: task_id for key in [*pending, cell.key]}
            pending = []
    if pending:
        raise ValueError(f"{source.path}: task cells {pending} have no check cell after them")
    return roles


def build_cell(
    cell: Cell, source: Source, kind: str, catalog: Catalog | None, roles: dict[str, str]
) -> nbformat.NotebookNode:
    context = f"{source.name}/{cell.key}"
    if cell.kind == "markdown":
        new = nbformat.v4.new_markdown_cell(translate(cell.source, context, catalog))
    else:
        code = cell.source
        if cell.is_task and (english := docstring(cell)):
            code = code.replace(english, lookup(english, f"{context}/docstring", catalog)[0], 1)
        new = nbformat.v4.new_code_cell(stub(code) if kind == "exercises" and cell.is_task else code)
    new.id = cell.key
    if source.name == "sheet":
        new.metadata["nbgrader"] = nbgrader(cell.key, cell.is_task, roles.get(cell.key) if cell.is_check else None)
        if cell.key in roles:
            new.metadata["nfcourse"] = {"task": roles[cell.key], "role": "check" if cell.is_check else "solution"}
    return new


def build_notebook(source: Source, kind: str, lang: str) -> nbformat.NotebookNode:
    catalog = None if lang == "en" else catalogs.load(po_path(source.path.parent, lang), lang)
    roles = sheet_roles(source) if source.name == "sheet" else {}
    with using_language(lang):
        first = nbformat.v4.new_markdown_cell(header(source, kind, lang))
        setup = nbformat.v4.new_code_cell(f'from nfcourse.i18n import set_language\n\nset_language("{lang}")')
        first.id, setup.id = HEADER_KEY, SETUP_KEY
        if source.name == "sheet":
            first.metadata["nbgrader"], setup.metadata["nbgrader"] = nbgrader(HEADER_KEY), nbgrader(SETUP_KEY)
        cells = [first, setup] + [build_cell(cell, source, kind, catalog, roles) for cell in source.cells]
    notebook = nbformat.v4.new_notebook(cells=cells)
    notebook.metadata = {
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
        "language_info": {"name": "python"},
        "nfcourse": {"lesson": source.lesson, "kind": kind, "language": lang},
    }
    return notebook


def outputs(names: list[str] | None = None) -> dict[Path, str]:
    """Every generated file and its text; with `names`, only those lessons' files and no course map."""
    files: dict[Path, str] = {}
    for folder in lesson_folders():
        if names and folder.name not in names:
            continue
        by_name = {source.name: source for source in sources(folder)}
        for kind, source_name in OUTPUTS.items():
            if source_name not in by_name:
                continue
            for lang in LANGUAGES:
                notebook = build_notebook(by_name[source_name], kind, lang)
                nbformat.validate(notebook)
                files[ROOT / kind / lang / f"{folder.name}.ipynb"] = nbformat.writes(notebook) + "\n"
        if "sheet" in by_name:
            files[SHEETS / f"{folder.name}.json"] = grading_sheet(by_name["sheet"])
    if not names:
        files.update(course_map_files())
    return files


def grading_sheet(source: Source) -> str:
    """What the grader runs for a sheet: its code cells except the self-checks, solution cells by task."""
    roles = sheet_roles(source)
    code = [cell for cell in source.cells if cell.kind == "code" and not cell.is_check]
    checks = {roles[cell.key]: cell.key for cell in source.cells if cell.is_check}
    return sheet_data(source.lesson, [(cell.key, cell.source, roles.get(cell.key, "")) for cell in code], checks)


def content(path: Path, text: str) -> object:
    """What a generated file says, independent of how a tool happened to write it.

    A notebook is its cells (ids, kinds, sources, metadata, outputs) and its metadata, without the
    nbformat version numbers; a sheet's JSON is its data; any other file is its text.
    """
    if path.suffix == ".ipynb":
        notebook = nbformat.reads(text, as_version=4)
        return {"cells": notebook.cells, "metadata": notebook.metadata}
    if path.suffix == ".json":
        return json.loads(text)
    return text


def is_current(path: Path, text: str) -> bool:
    """True if the file at `path` exists and says what `text` says (see `content`)."""
    return path.exists() and content(path, path.read_text(encoding="utf-8")) == content(path, text)


def generated_now() -> list[Path]:
    """The notebooks in the generated folders, whether or not a source still makes them."""
    return sorted([*(path for kind in OUTPUTS for path in (ROOT / kind).glob("*/*.ipynb")), *SHEETS.glob("*.json")])


def main() -> int:
    check_only = "--check" in sys.argv[1:]
    names = [arg for arg in sys.argv[1:] if not arg.startswith("--")]
    stale, files = [], outputs(names)
    for path in generated_now():
        if not names and path not in files:
            stale.append(path.relative_to(ROOT))
            if not check_only:
                path.unlink()
    for path, text in files.items():
        if is_current(path, text):
            continue
        stale.append(path.relative_to(ROOT))
        if not check_only:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
    verb = "out of date" if check_only else "written"
    print("\n".join(f"{verb}: {path}" for path in stale) or "every generated file is up to date")
    return 1 if check_only and stale else 0


if __name__ == "__main__":
    sys.exit(main())
