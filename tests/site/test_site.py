"""The built course website in a real browser: pages, links, languages, math, images, animations, offline.

Run by `python3 course.py site --check` (see conftest.py). Screenshots of a few pages land in
build/site-screenshots/ for a person to look at.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from selenium.webdriver.common.by import By

from tests.site.page_report import Visit, open_page
from tools.lessons import LANGUAGES, ROOT
from tools.site import offline

SCREENSHOTS = ROOT / "build" / "site-screenshots"
RAW_TEX = re.compile(r"\$\$|\\\(|\\\)|\\\[|\\\]|\\(?:frac|sum|log|alpha|mathrm|det|begin)\b|\$[^$\s][^$]*\$")
RAW_TABLE = re.compile(r"\|\s*:?-{3,}:?\s*\|")  # a Markdown table's delimiter row
SHOWN = {  # screenshot name -> page: a start page, a lecture in each language, a solved and an exercise sheet
    "start-en": "en/index.html",
    "chooser": "index.html",
    "lecture-en": "en/notebooks/en/02_made_maf.html",
    "lecture-de": "de/notebooks/de/00_recap.html",
    "lecture-ja": "ja/notebooks/ja/06_iresnet.html",
    "solutions-de": "de/solutions/de/04_coupling.html",
    "exercises-ja": "ja/exercises/ja/03_iaf_distillation.html",
}
ANIMATED_PAGE = "en/notebooks/en/02_made_maf.html"  # its cell `film` shows nfcourse.plotting.animate_layers


def file_of(url: str, server: str, site: Path) -> Path:
    """The file of the site that a same-site address is served from."""
    path = site / unquote(urlsplit(url).path).removeprefix(urlsplit(server).path)
    return path / "index.html" if path.is_dir() else path


def notebook_pages(visits: dict[str, Visit]) -> dict[str, Visit]:
    return {url: visit for url, visit in visits.items() if visit.report["bar"] and visit.report["bar"]["kind"]}


def test_the_site_has_every_language_and_kind_of_notebook(visits: dict[str, Visit]) -> None:
    found = {(v.report["bar"]["language"], v.report["bar"]["kind"]) for v in notebook_pages(visits).values()}
    assert found == {(lang, kind) for lang in LANGUAGES for kind in ("notebooks", "exercises", "solutions")}


def test_every_page_loads_without_console_errors(visits: dict[str, Visit]) -> None:
    errors = {url: visit.errors for url, visit in visits.items() if visit.errors}
    assert not errors


def test_every_internal_link_resolves(visits: dict[str, Visit], server: str, site: Path) -> None:
    missing = {
        f"{url} -> {address}"
        for url, visit in visits.items()
        for address in visit.report["addresses"]
        if address.startswith(server) and not file_of(address, server, site).is_file()
    }
    assert not missing


def test_the_language_switcher_leads_to_the_same_page_in_each_other_language(
    visits: dict[str, Visit], server: str
) -> None:
    wrong = []
    for url, visit in visits.items():
        if url == server + "index.html":
            continue  # the site's root is the language chooser itself
        bar = visit.report["bar"]
        others = {link["hreflang"]: link["href"].split("#")[0] for link in visit.report["switcher"]}
        if bar is None or set(others) != set(LANGUAGES) - {bar["language"]}:
            wrong.append(f"{url}: switcher {others}")
            continue
        for lang, address in others.items():
            target = visits.get(address)
            expected = {**bar, "language": lang}
            if target is None or target.report["bar"] != expected or target.report["lang"] != lang:
                wrong.append(f"{url} -> {address}: {target and target.report['bar']}, expected {expected}")
    assert not wrong


def test_clicking_the_switcher_opens_the_lesson_in_that_language(browser: object, server: str) -> None:
    browser.get(server + "de/notebooks/de/00_recap.html")
    browser.find_element(By.CSS_SELECTOR, '.nfcourse-languages a[hreflang="ja"]').click()
    assert browser.current_url == server + "ja/notebooks/ja/00_recap.html"
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "ja"


def test_math_is_typeset_and_no_raw_tex_is_left(visits: dict[str, Visit]) -> None:
    untypeset = {url: v.report["math"] - v.report["mathTypeset"] for url, v in visits.items()}
    raw = {url: RAW_TEX.findall(v.report["text"])[:5] for url, v in visits.items() if RAW_TEX.search(v.report["text"])}
    with_math = {url for url, visit in notebook_pages(visits).items() if visit.report["mathTypeset"]}
    assert not {url: count for url, count in untypeset.items() if count}
    assert not raw
    for lang in LANGUAGES:  # every lecture has formulas: each language must show some
        assert any(f"/{lang}/notebooks/" in url for url in with_math), lang


def test_markdown_outputs_are_rendered_not_shown_as_text(visits: dict[str, Visit]) -> None:
    """A cell's Markdown output (the lessons' tables) must become HTML, not a line of pipes and dashes."""
    raw = {
        url: RAW_TABLE.findall(v.report["text"])[:3] for url, v in visits.items() if RAW_TABLE.search(v.report["text"])
    }
    assert not raw


def test_every_image_has_loaded(visits: dict[str, Visit]) -> None:
    broken = {url: [i["src"] for i in v.report["images"] if not i["loaded"]] for url, v in visits.items()}
    assert not {url: sources for url, sources in broken.items() if sources}
    assert sum(len(visit.report["images"]) for visit in notebook_pages(visits).values()) > 0


def test_the_animation_steps_and_plays(browser: object, server: str) -> None:
    open_page(browser, server + ANIMATED_PAGE)  # waits for the math and images above, which move the player
    player = browser.find_element(By.CSS_SELECTOR, "div.animation")
    frame = player.find_element(By.TAG_NAME, "img")
    first = frame.get_attribute("src")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center', behavior: 'instant'})", player)
    player.find_element(By.CSS_SELECTOR, "button[onclick*='next_frame']").click()
    assert frame.get_attribute("src") != first, "the step button did not show the next frame"
    player.find_element(By.CSS_SELECTOR, "button[onclick*='first_frame']").click()
    assert frame.get_attribute("src") == first
    player.find_element(By.CSS_SELECTOR, "button[onclick*='play_animation']").click()
    time.sleep(1.0)
    assert frame.get_attribute("src") != first, "the play button did not move the film on"


def test_japanese_text_has_a_font_served_by_the_site(browser: object, server: str) -> None:
    browser.get(server + "ja/index.html")
    loaded = browser.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "const late = new Promise((resolve) => setTimeout(() => resolve(['not loaded within 20 s']), 20000));"
        "const load = document.fonts.load('16px IPAexGothic', '日本語').then((faces) => faces.map((f) => f.status));"
        "Promise.race([load, late]).then(done, (error) => done([String(error)]));"
    )
    assert loaded == ["loaded"]


def test_no_page_loads_anything_from_another_host(site: Path) -> None:
    assert offline.scan(site) == {}


@pytest.mark.parametrize("name", SHOWN)
def test_screenshot(browser: object, server: str, name: str) -> None:
    """Saves build/site-screenshots/<name>.png, for a person to look at."""
    visit = open_page(browser, server + SHOWN[name])
    assert not visit.errors
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    assert browser.save_screenshot(str(SCREENSHOTS / f"{name}.png"))
