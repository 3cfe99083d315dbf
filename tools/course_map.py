"""The course map: every lesson x language x kind, with titles, learning goals and time, in two places.

`index.ipynb` (what `python3 course.py lab` opens) has one section per language; README.md gets the
English table between its `course-map` markers. Both are written by `python -m tools.build`.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat

from nfcourse.i18n import _, using_language
from tools import catalogs
from tools.lessons import LANGUAGE_NAMES, LANGUAGES, OUTPUTS, ROOT, goals, lesson_folders, read
from tools.translations import po_path

BEGIN, END = "<!-- course-map:begin -->", "<!-- course-map:end -->"


def lesson_text(folder: Path, lang: str, key: str) -> str:
    """The lecture's cell `key` in `lang` (English where no current translation exists)."""
    english = read(folder / "lecture.py").cell(key).source
    if lang == "en":
        return english
    catalog = catalogs.load(po_path(folder, lang), lang)
    message = next((m for m in catalog if m.context == f"lecture/{key}" and m.id == english), None)
    return message.string if message is not None and message.string and not message.fuzzy else english


def links(folder: Path, lang: str, prefix: str) -> str:
    labels = {"notebooks": _("lecture"), "exercises": _("exercises"), "solutions": _("solutions")}
    made = [kind for kind, source in OUTPUTS.items() if (folder / f"{source}.py").exists()]
    return " · ".join(f"[{labels[kind]}]({prefix}{kind}/{lang}/{folder.name}.ipynb)" for kind in made)


def table(lang: str, prefix: str, languages: tuple[str, ...]) -> str:
    """A markdown table of the lessons (links for `languages`) followed by each lesson's goals in `lang`."""
    with using_language(lang):
        lesson_header, time_header = _("Lesson"), _("Time")
        head = (
            f"| # | {lesson_header} | {time_header} | " + " | ".join(LANGUAGE_NAMES[code] for code in languages) + " |"
        )
        rows = [head, "|---|---|---|" + "---|" * len(languages)]
        details = []
        for folder in lesson_folders():
            title = lesson_text(folder, lang, "title").lstrip("# ").strip()
            bullets, minutes = goals(lesson_text(folder, "en", "goals"))
            translated_bullets, _minutes = goals(lesson_text(folder, lang, "goals"))
            time = _("{minutes} min").format(minutes=minutes) if minutes else ""
            cells = [links(folder, code, prefix) for code in languages]
            rows.append(f"| {folder.name[:2]} | {title} | {time} | " + " | ".join(cells) + " |")
            details.append(
                f"**{folder.name[:2]} {title}**\n\n" + "\n".join(f"- {b}" for b in translated_bullets or bullets)
            )
    return "\n".join(rows) + "\n\n" + "\n\n".join(details)


def course_title(lang: str) -> str:
    with using_language(lang):
        return _("Normalizing Flows: from autoregressive flows to Residual Flows")


def language_section(lang: str) -> str:
    """The course map in one language, as markdown: title, how to use it, the lessons (links relative to the root)."""
    with using_language(lang):
        intro = _(
            "The course map: open a lecture, then its exercise sheet; the solved sheet is for checking afterwards."
        )
    return f"# {course_title(lang)}\n\n{intro}\n\n" + table(lang, "", (lang,))


def index_notebook() -> str:
    cells = []
    for lang in LANGUAGES:
        cell = nbformat.v4.new_markdown_cell(language_section(lang))
        cell.id = f"course-map-{lang}"
        cells.append(cell)
    notebook = nbformat.v4.new_notebook(cells=cells)
    notebook.metadata = {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}
    return nbformat.writes(notebook) + "\n"


def readme() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = f"{BEGIN}\n{table('en', '', LANGUAGES)}\n{END}"
    if BEGIN not in text:
        raise ValueError(f"README.md needs the markers {BEGIN} and {END} where the course map goes")
    return re.sub(re.escape(BEGIN) + ".*?" + re.escape(END), lambda _match: block, text, flags=re.S)


def course_map_files() -> dict[Path, str]:
    return {ROOT / "index.ipynb": index_notebook(), ROOT / "README.md": readme()}
