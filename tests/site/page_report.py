"""One visit of a page of the site in the browser, and what the tests read from it.

`open_page` loads a page, waits until MathJax (where the page loads it) has typeset everything and every
image has been decoded, and reports what the tests check: the console's errors, the page's language and the
data of its bar (language, kind, lesson), the links of its language switcher, every address it refers to,
whether each image loaded, the text a reader sees outside code and math, and how much math is typeset.
"""

from __future__ import annotations

from dataclasses import dataclass, field

INSPECT = """
const done = arguments[arguments.length - 1];
const typeset = window.MathJax && MathJax.startup ? MathJax.startup.promise : Promise.resolve();
typeset.then(() => Promise.all(Array.from(document.images, (image) => image.decode().catch(() => null))))
  .then(() => {
    const bar = document.querySelector(".nfcourse-bar");
    const hidden = "pre, code, script, style, mjx-container, textarea";
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    const text = [];
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const parent = node.parentElement;
      if (parent && !parent.closest(hidden) && parent.getClientRects().length) text.push(node.textContent);
    }
    const math = Array.from(document.querySelectorAll(".math"));
    done({
      lang: document.documentElement.lang,
      bar: bar ? {...bar.dataset} : null,
      switcher: bar ? Array.from(bar.querySelectorAll(".nfcourse-languages a"),
                                 (a) => ({href: a.href, hreflang: a.hreflang})) : [],
      addresses: Array.from(document.querySelectorAll("a[href], img[src], script[src], link[href], iframe[src]"),
                            (element) => element.href || element.src),
      images: Array.from(document.images, (image) => ({src: image.src.slice(0, 120),
                                                     loaded: image.complete && image.naturalWidth > 0})),
      text: text.join(" "),
      math: math.length,
      mathTypeset: math.filter((element) => element.querySelector("mjx-container")).length,
    });
  });
"""


@dataclass
class Visit:
    """What one page showed: its console errors and what INSPECT reported."""

    url: str
    errors: list[str]
    report: dict = field(repr=False)


def console_errors(browser: object) -> list[str]:
    """The console's errors since the last call (reading the log empties it)."""
    return [entry["message"] for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]


def open_page(browser: object, url: str) -> Visit:
    """Load `url` in `browser` and report what it shows once math and images are ready."""
    console_errors(browser)
    browser.get(url)
    report = browser.execute_async_script(INSPECT)
    return Visit(url, console_errors(browser), report)
