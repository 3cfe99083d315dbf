"""The website's own parts, without building it: the bar's links and words, the pages' sources, and the check
that no page loads anything from another host (the browser test in tests/site/ checks the built site)."""

from __future__ import annotations

import posixpath
import re

import nbformat
import pytest

from tools.build import HEADER_KEY, SETUP_KEY
from tools.site import offline, pages, sources
from tools.site.pages import Page


def landing(page: Page, href: str) -> str:
    """The page (relative to the site's root) that a relative link `href` on `page` leads to."""
    return posixpath.normpath(posixpath.join(page.lang, posixpath.dirname(page.name), href))


@pytest.mark.parametrize(
    ("page", "other", "expected"),
    [
        (Page("de", "notebooks/de/00_recap"), "ja", "ja/notebooks/ja/00_recap.html"),
        (Page("en", "solutions/en/04_coupling"), "de", "de/solutions/de/04_coupling.html"),
        (Page("ja", "index"), "en", "en/index.html"),
        (Page("en", "search"), "ja", "ja/search.html"),
    ],
)
def test_the_switcher_leads_to_the_same_page_in_the_other_language(page: Page, other: str, expected: str) -> None:
    assert landing(page, page.in_language(other)) == expected


def test_a_notebook_page_links_its_other_kinds_the_course_map_colab_and_its_own_notebook() -> None:
    page = Page("de", "exercises/de/03_iaf_distillation")
    html = pages.bar(page, "fast", "https://github.com/someone/nfcourse")
    assert landing(page, page.sibling("solutions")) == "de/solutions/de/03_iaf_distillation.html"
    colab = "https://colab.research.google.com/github/someone/nfcourse/blob/main/exercises/de/03_iaf_distillation.ipynb"
    assert f'href="{colab}"' in html
    assert 'href="03_iaf_distillation.ipynb"' in html and "download=" in html
    assert 'href="../../../de/index.html"' in html and landing(page, "../../../de/index.html") == "de/index.html"
    assert "In Colab öffnen" in html and "Notebook herunterladen" in html and "schnellen Modus" in html
    assert 'data-language="de" data-kind="exercises" data-lesson="03_iaf_distillation"' in html


def test_without_a_repository_a_notebook_page_offers_the_download_and_no_colab_link() -> None:
    html = pages.bar(Page("en", "notebooks/en/00_recap"), "fast")
    assert "Colab" not in html and 'href="00_recap.ipynb"' in html


@pytest.mark.parametrize(
    "repository", ["github.com/someone/nfcourse", "https://gitlab.com/someone/nfcourse", "https://github.com/someone"]
)
def test_a_repository_that_colab_cannot_open_is_refused_with_the_expected_form(repository: str) -> None:
    with pytest.raises(ValueError, match=re.escape("https://github.com/OWNER/NAME")):
        pages.checked_repository(repository)
    assert pages.checked_repository("https://github.com/someone/nfcourse/") == "https://github.com/someone/nfcourse/"


def test_every_page_has_the_switcher_and_only_notebook_pages_have_notebook_links() -> None:
    html = pages.bar(Page("ja", "index"), "full")
    assert 'hreflang="en"' in html and 'hreflang="de"' in html and 'hreflang="ja"' not in html
    assert "Colab" not in html and 'data-kind=""' in html


def test_the_site_notebook_starts_with_its_title_and_leaves_out_the_repository_header() -> None:
    header, setup = nbformat.v4.new_markdown_cell("links"), nbformat.v4.new_code_cell('set_language("de")')
    title, body = nbformat.v4.new_markdown_cell("# Title"), nbformat.v4.new_code_cell("1")
    header.id, setup.id, title.id, body.id = HEADER_KEY, SETUP_KEY, "title", "body"
    shown = nbformat.reads(sources.site_notebook(nbformat.v4.new_notebook(cells=[header, setup, title, body])), 4)
    assert [cell.id for cell in shown.cells] == ["title", SETUP_KEY, "body"]


def test_the_start_page_is_the_course_map_with_every_notebook_in_the_sidebar() -> None:
    text = sources.start_page("de", {"notebooks": ["00_recap"], "solutions": ["00_recap"]})
    assert text.startswith("# Normalizing Flows")
    assert "(notebooks/de/00_recap.ipynb)" in text  # the course map's own links, as in index.ipynb
    assert ":caption: Vorlesungen\n\nnotebooks/de/00_recap\n" in text
    assert ":caption: Lösungen\n\nsolutions/de/00_recap\n" in text


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ('<script src="https://cdn.example.org/mathjax.js"></script>', ["https://cdn.example.org/mathjax.js"]),
        ("<script defer src='//cdn.example.org/a.js'></script>", ["//cdn.example.org/a.js"]),
        ('<link rel="stylesheet" href="http://fonts.example.com/css">', ["http://fonts.example.com/css"]),
        ('@import url("https://fonts.example.com/x.css");', ["https://fonts.example.com/x.css"]),
        ("@font-face { src: url(https://fonts.example.com/a.woff2) }", ["https://fonts.example.com/a.woff2"]),
        ('<script src="_static/a.js"></script><link href="../_static/b.css">', []),
        ('<a href="https://colab.research.google.com/github/x">Colab</a>', []),
        ('<img src="data:image/png;base64,AAAA">', []),
    ],
)
def test_addresses_on_another_host_that_a_page_would_load_are_found(text: str, found: list[str]) -> None:
    assert offline.outside_references(text) == found
