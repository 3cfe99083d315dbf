"""The site's own HTML: the bar at the top of every page, and the language chooser at the site's root.

The site holds one Sphinx site per language, `<lang>/`, whose pages mirror the repository: the German
lecture 00 is `de/notebooks/de/00_recap.html`, next to the notebook file it was built from,
`de/notebooks/de/00_recap.ipynb`. So the same page in another language is the same name with the language
swapped, and the bar can link to it without looking anything up. Its words go through the course's message
catalogs (`_`), in the language of the page.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html import escape

from nfcourse.i18n import _, using_language
from tools.build import kind_name
from tools.course_map import course_title
from tools.lessons import LANGUAGE_NAMES, LANGUAGES, OUTPUTS

BRANCH = "main"  # the branch "Open in Colab" opens
GITHUB_REPOSITORY = re.compile(r"^https://github\.com/(?P<owner_and_name>[\w.-]+/[\w.-]+?)/?$")
NOTEBOOK_PAGE = re.compile(rf"^(?P<kind>{'|'.join(OUTPUTS)})/(?P<lang>{'|'.join(LANGUAGES)})/(?P<lesson>[^/]+)$")


def checked_repository(repository: str) -> str:
    """`repository` if it is "" (no Colab links) or a GitHub address https://github.com/OWNER/NAME; else an error."""
    if repository and not GITHUB_REPOSITORY.match(repository):
        raise ValueError(
            f"--repository must be a GitHub address like https://github.com/OWNER/NAME (Colab opens notebooks "
            f"from GitHub), got {repository!r}."
        )
    return repository


def colab_url(repository: str, path: str) -> str:
    """Colab's address for the notebook at `path` (relative to the repository root) of GitHub `repository`."""
    owner_and_name = GITHUB_REPOSITORY.match(checked_repository(repository))["owner_and_name"]
    return f"https://colab.research.google.com/github/{owner_and_name}/blob/{BRANCH}/{path}"


@dataclass(frozen=True)
class Page:
    """One page of the site: its language and its Sphinx name ("index", "search", "notebooks/de/00_recap")."""

    lang: str
    name: str

    @property
    def notebook(self) -> tuple[str, str] | None:
        """(kind, lesson) of a notebook page, e.g. ("notebooks", "00_recap"); None for other pages."""
        match = NOTEBOOK_PAGE.match(self.name)
        return (match["kind"], match["lesson"]) if match and match["lang"] == self.lang else None

    @property
    def to_root(self) -> str:
        """The relative address of the site's root folder, seen from this page."""
        return "../" * (self.name.count("/") + 1)

    def in_language(self, other: str) -> str:
        """The relative address of this page in the language `other`."""
        name = self.name
        if self.notebook:
            kind, lesson = self.notebook
            name = f"{kind}/{other}/{lesson}"
        return f"{self.to_root}{other}/{name}.html"

    def sibling(self, kind: str) -> str:
        """The relative address of this lesson's page of another kind, in the same language."""
        _kind, lesson = self.notebook
        return f"{self.to_root}{self.lang}/{kind}/{self.lang}/{lesson}.html"


def link(href: str, text: str, **attributes: str) -> str:
    extra = "".join(f' {name.replace("_", "-")}="{escape(value)}"' for name, value in attributes.items())
    return f'<a href="{escape(href)}"{extra}>{escape(text)}</a>'


def language_switcher(page: Page) -> str:
    items = [
        f'<strong lang="{code}">{LANGUAGE_NAMES[code]}</strong>'
        if code == page.lang
        else link(page.in_language(code), LANGUAGE_NAMES[code], hreflang=code, lang=code)
        for code in LANGUAGES
    ]
    label = escape(_("Language"))
    return f'<nav class="nfcourse-languages" aria-label="{label}">' + " · ".join(items) + "</nav>"


def notebook_links(page: Page, mode: str, repository: str) -> str:
    kind, lesson = page.notebook
    kinds = [
        f"<strong>{escape(kind_name(other))}</strong>" if other == kind else link(page.sibling(other), kind_name(other))
        for other in OUTPUTS
    ]
    course_map = link(f"{page.to_root}{page.lang}/index.html", _("Course map"))
    path = f"{kind}/{page.lang}/{lesson}.ipynb"
    actions = [link(colab_url(repository, path), _("Open in Colab"), class_="nfcourse-colab")] if repository else []
    actions.append(
        link(f"{lesson}.ipynb", _("Download the notebook"), class_="nfcourse-download", download=f"{lesson}.ipynb")
    )
    notes = {
        "fast": _(
            "The outputs on this page come from a run in fast mode, with small training budgets: the numbers "
            "and pictures are rougher than in a full run."
        ),
        "full": _("The outputs on this page come from a run in full mode, with the training budgets of the lesson."),
    }
    return (
        '<div class="nfcourse-kinds">' + " · ".join([*kinds, course_map]) + "</div>"
        '<div class="nfcourse-actions">' + " ".join(actions) + "</div>"
        f'<p class="nfcourse-mode">{escape(notes[mode])}</p>'
    )


def bar(page: Page, mode: str, repository: str = "") -> str:
    """The bar at the top of `page`: the language switcher, and for a notebook its links and where its outputs
    come from ("Open in Colab" only with a GitHub `repository`). Its data attributes name the page, for the
    site's browser test."""
    with using_language(page.lang):
        kind, lesson = page.notebook or ("", "")
        parts = [language_switcher(page), notebook_links(page, mode, repository) if page.notebook else ""]
    return (
        f'<div class="nfcourse-bar" data-language="{page.lang}" data-kind="{kind}" data-lesson="{lesson}">'
        + "".join(parts)
        + "</div>"
    )


def language_chooser() -> str:
    """The site's root page, index.html: the course's title and a link to each language's course map."""
    entries = []
    for code in LANGUAGES:
        with using_language(code):
            entries.append(
                f'<li lang="{code}"><a href="{code}/index.html" hreflang="{code}">'
                f"<strong>{escape(LANGUAGE_NAMES[code])}</strong> — {escape(course_title(code))}</a></li>"
            )
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(course_title('en'))}</title>\n"
        '<link rel="icon" href="en/_static/favicon.svg">\n'
        '<link rel="stylesheet" href="en/_static/nfcourse.css">\n</head>\n'
        '<body class="nfcourse-chooser">\n<main>\n<h1>Normalizing Flows</h1>\n<ul>\n'
        + "\n".join(entries)
        + "\n</ul>\n</main>\n</body>\n</html>\n"
    )
