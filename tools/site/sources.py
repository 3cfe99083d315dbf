"""The Sphinx source folder of one language: its course map as the start page, and its executed notebooks.

    build/site-src/<lang>/index.md                       the course map (tools.course_map) and the sidebar
    build/site-src/<lang>/<kind>/<lang>/<lesson>.ipynb   the executed notebooks, laid out as in the repository

Each notebook loses its first cell, the header that links the repository's other notebooks: on the site the
bar of `pages` does that job, and the title comes first. A file is written only when its content changed, so
that Sphinx, which looks at modification times, rebuilds only the pages that changed.
"""

from __future__ import annotations

from pathlib import Path

import nbformat

from nfcourse.i18n import _, using_language
from tools.build import HEADER_KEY, SETUP_KEY
from tools.course_map import language_section
from tools.lessons import OUTPUTS


def caption(kind: str) -> str:
    """The heading of one kind of notebook in the sidebar."""
    return {"notebooks": _("Lectures"), "exercises": _("Exercise sheets"), "solutions": _("Solved sheets")}[kind]


def write_if_changed(path: Path, text: str) -> None:
    if path.is_file() and path.read_text(encoding="utf-8") == text:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def start_page(lang: str, lessons: dict[str, list[str]]) -> str:
    """index.md: the course map in `lang`, then one hidden table of contents per kind (`lessons`: kind -> names)."""
    with using_language(lang):
        tables = [
            f"```{{toctree}}\n:hidden:\n:caption: {caption(kind)}\n\n"
            + "".join(f"{kind}/{lang}/{lesson}\n" for lesson in lessons[kind])
            + "```\n"
            for kind in OUTPUTS
            if lessons.get(kind)
        ]
    return language_section(lang) + "\n\n" + "\n".join(tables)


def site_notebook(executed: nbformat.NotebookNode) -> str:
    """The executed notebook as the site shows it: without the repository's header cell, and with the cell
    that sets the language of the messages after the title rather than above it."""
    shown = nbformat.from_dict(executed)
    setup = [cell for cell in shown.cells if cell.get("id") == SETUP_KEY]
    rest = [cell for cell in shown.cells if cell.get("id") not in (HEADER_KEY, SETUP_KEY)]
    shown.cells = rest[:1] + setup + rest[1:]
    return nbformat.writes(shown)


def stage(lang: str, notebooks: dict[Path, nbformat.NotebookNode], folder: Path) -> None:
    """Write the source folder of `lang` from its executed notebooks (`notebooks`: repository path -> notebook)."""
    lessons: dict[str, list[str]] = {}
    wanted = {folder / "index.md"}
    for path, executed in sorted(notebooks.items()):
        kind = path.parent.parent.name
        lessons.setdefault(kind, []).append(path.stem)
        target = folder / kind / lang / path.name
        write_if_changed(target, site_notebook(executed))
        wanted.add(target)
    write_if_changed(folder / "index.md", start_page(lang, lessons))
    for stale in [p for p in folder.rglob("*") if p.is_file() and p not in wanted]:
        stale.unlink()  # a lesson that was removed
