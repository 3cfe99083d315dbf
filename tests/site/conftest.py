"""The browser test of the course website: a built site, served on this machine, opened in headless Chromium.

`python3 course.py site --check` builds the site and runs these tests with NFCOURSE_SITE set to its folder.
The plain test run (`python3 course.py test`) does not collect them: the site needs every notebook executed
first, which that run does itself, in parallel, so the site could only be built after it. Selenium drives
the Chromium of the Linux distribution (`/usr/bin/chromium`, `/usr/bin/chromedriver`; on Debian
`apt-get install chromium chromium-driver`), never a browser that a tool downloads.

Every page is visited once (`visits`, through `page_report.open_page`), and what the tests check is read
from that visit: the console's errors, the addresses the page refers to, its images and its math.
"""

from __future__ import annotations

import functools
import http.server
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.site.page_report import Visit, open_page

SITE_VARIABLE = "NFCOURSE_SITE"
CHROMIUM = Path(os.environ.get("NFCOURSE_CHROMIUM", "/usr/bin/chromium"))
CHROMEDRIVER = Path(os.environ.get("NFCOURSE_CHROMEDRIVER", "/usr/bin/chromedriver"))
WINDOW = (1280, 1000)
SKIPPED_FOLDERS = {"_static", "_mathjax", "_fonts", "_images", "_sources"}

if not os.environ.get(SITE_VARIABLE):
    collect_ignore = ["test_site.py"]


@pytest.fixture(scope="session")
def site() -> Path:
    folder = Path(os.environ[SITE_VARIABLE]).resolve()
    assert (folder / "index.html").is_file(), f"no built site in {folder}: run python3 course.py site first"
    return folder


@pytest.fixture(scope="session")
def server(site: Path) -> Iterator[str]:
    """The site served over HTTP on 127.0.0.1 (a free port), as a reader's browser would get it."""

    class Handler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=str(site)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}/"
    httpd.shutdown()
    thread.join()


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """Headless Chromium driven by Selenium, keeping the console's messages."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    for program in (CHROMIUM, CHROMEDRIVER):
        assert program.is_file(), f"{program} is missing: apt-get install chromium chromium-driver"
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        f"--window-size={WINDOW[0]},{WINDOW[1]}",
    ):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_script_timeout(60)
    yield driver
    driver.quit()


def site_pages(site: Path) -> list[str]:
    """Every HTML page of the site, as paths relative to its root."""
    return sorted(
        str(path.relative_to(site))
        for path in site.rglob("*.html")
        if not SKIPPED_FOLDERS & set(path.relative_to(site).parts)
    )


@pytest.fixture(scope="session")
def visits(site: Path, server: str, browser: object) -> dict[str, Visit]:
    """Every page of the site, opened once: {address: what it showed}."""
    return {server + page: open_page(browser, server + page) for page in site_pages(site)}
