r"""The language of every message a learner reads: English, German or Japanese.

Messages are marked in the code with `_("...")` and translated in gettext catalogs,
`nfcourse/locale/<lang>/LC_MESSAGES/nfcourse.po`, compiled to `.mo` files by
`python tools/messages.py` (see the README's contributors' section). English is the source language.

The language is chosen once, by `set_language("de")` or by the environment variable
`NFCOURSE_LANG` (read at import); every later message uses it.

Numbers are written the way the reader's language writes them. A translated message is a `Message`,
whose `.format(...)` passes every number through `number`: German swaps the decimal point and the
thousands separator (0,534 and 17.412, where English and Japanese write 0.534 and 17,412), and a
truth value reads as a word ("yes"/"ja"/"はい"), not as Python's `True`.
"""

from __future__ import annotations

import gettext
import os
import string
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

LANGUAGES = ("en", "de", "ja")
DOMAIN = "nfcourse"
LOCALE_DIR = Path(__file__).parent / "locale"

_language = "en"


@cache
def _translations(language: str) -> gettext.NullTranslations:
    if language == "en":
        return gettext.NullTranslations()
    return gettext.translation(DOMAIN, localedir=LOCALE_DIR, languages=[language])


def set_language(language: str) -> None:
    """Choose the language of all messages: one of `LANGUAGES` ("en", "de", "ja")."""
    global _language
    if language not in LANGUAGES:
        raise ValueError(
            f"Unknown language {language!r}: choose one of {', '.join(LANGUAGES)} "
            f"(Sprache / 言語: {', '.join(LANGUAGES)})."
        )
    _translations(language)  # fail now, not at the first message, if a catalog is missing
    _language = language


@contextmanager
def using_language(language: str) -> Iterator[None]:
    """Speak `language` inside a `with` block, then return to the language chosen before."""
    before = _language
    set_language(language)
    try:
        yield
    finally:
        set_language(before)


def get_language() -> str:
    """The language chosen by `set_language` or `NFCOURSE_LANG` (default "en")."""
    return _language


def number(value: object, spec: str = "") -> str:
    """`format(value, spec)` as the chosen language writes numbers; other values are formatted as usual.

    German: `number(17412, ",d")` is "17.412" and `number(0.5344, ".3f")` is "0,534"; English and
    Japanese keep Python's "17,412" and "0.534". `True`/`False` become the words for yes and no.
    """
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    text = format(value, spec)
    if _language == "de" and isinstance(value, int | float):
        text = text.translate(str.maketrans({".": ",", ",": "."}))
    return text


class _NumberFormatter(string.Formatter):
    def format_field(self, value: object, format_spec: str) -> str:
        return number(value, format_spec)


class Message(str):
    """A translated message. `.format` works like `str.format`, with numbers written by `number`."""

    def format(self, *args: object, **kwargs: object) -> str:
        return _NumberFormatter().vformat(self, args, kwargs)


def _(message: str) -> Message:
    """Translate `message` into the chosen language (gettext's usual short name)."""
    return Message(_translations(_language).gettext(message))


# In a notebook, IPython rebinds `_` to the last cell's value, so lessons call the same function `tr`.
tr = _


def N_(message: str) -> str:  # noqa: N802 (gettext's conventional name)
    """Mark `message` for translation without translating it now (it is translated where it is shown)."""
    return message


set_language(os.environ.get("NFCOURSE_LANG", "en") or "en")
