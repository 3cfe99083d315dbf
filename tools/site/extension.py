"""A small Sphinx extension for the course website: the site's title and the bar on every page.

The language of a build (`language`, given with `-D language=de`) decides the site's title and the words of
the bar. `nfcourse_mode` ("fast" or "full") names the run the outputs come from; a notebook page says it.
`nfcourse_repository` (a GitHub address, or "") is where "Open in Colab" finds the notebooks.
"""

from __future__ import annotations

from sphinx.application import Sphinx
from sphinx.config import Config

from tools.course_map import course_title
from tools.site.pages import Page, bar


def configure(app: Sphinx, config: Config) -> None:
    """Settings that depend on the build's language, set once the command line has been read."""
    config.project = config.html_title = str(course_title(config.language))


def add_bar(app: Sphinx, pagename: str, templatename: str, context: dict, doctree: object) -> None:
    context["nfcourse_bar"] = bar(
        Page(app.config.language, pagename), app.config.nfcourse_mode, app.config.nfcourse_repository
    )


def setup(app: Sphinx) -> dict:
    app.add_config_value("nfcourse_mode", "fast", "html", str)
    app.add_config_value("nfcourse_repository", "", "html", str)
    app.connect("config-inited", configure)
    app.connect("html-page-context", add_bar)
    app.add_css_file("nfcourse.css")
    return {"parallel_read_safe": True, "parallel_write_safe": True}
