#!/usr/bin/env python3
"""Keep the library's message catalogs (nfcourse/locale/<lang>/LC_MESSAGES/nfcourse.po) in step with the code.

    python -m tools.messages update    extract every _("...") from nfcourse/ and tr("...") from the code cells
                                       of lessons/, and merge them into the de/ja catalogs: new messages
                                       arrive empty, changed ones become fuzzy and keep the previous
                                       English text, removed ones are dropped
    python -m tools.messages compile   write the .mo files that nfcourse.i18n loads
    python -m tools.messages check     list every entry that is missing, fuzzy, obsolete, out of date
                                       or whose {placeholders} differ from the English; exit 1 if any

Translate by editing the msgstr lines of the .po files (any PO editor works), then run `compile`.
"""

from __future__ import annotations

import io
import re
import string
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo, write_mo

from tools import catalogs
from tools.catalogs import new_catalog

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "nfcourse"
LOCALE = PACKAGE / "locale"
LESSONS = ROOT / "lessons"  # strings in lesson code cells, written tr("..."), live in this catalog too
TOOLS = ROOT / "tools"  # and the headers and banners that the build writes into the notebooks
KEYWORDS = {"_": None, "tr": None, "N_": None}
JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")  # kana and kanji: a label with $...$ is drawn as math
TRANSLATED = ("de", "ja")


def po_path(language: str) -> Path:
    return LOCALE / language / "LC_MESSAGES" / "nfcourse.po"


def template() -> Catalog:
    """Every _("...") message in the library and the build, and every tr("...") in the lessons, as a template."""
    catalog = new_catalog()
    for folder in (PACKAGE, LESSONS, TOOLS):
        for filename, _lineno, message, comments, context in extract_from_dir(folder, keywords=KEYWORDS):
            location = f"{folder.name}/{filename}"
            catalog.add(message, locations=[(location, None)], auto_comments=comments, context=context)
    return catalog


def load(language: str) -> Catalog:
    return catalogs.load(po_path(language), language)


def serialize_mo(catalog: Catalog) -> bytes:
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    return buffer.getvalue()


def translations(catalog: Catalog) -> dict[tuple[str | None, object], object]:
    """What a catalog maps: (context, English) -> translation, for every message but the header.

    Comparing this, not the bytes, tells whether a .mo file is current: babel's version, which it writes
    into the .mo header, says nothing about the messages.
    """
    return {(message.context, message.id): message.string for message in catalog if message.id}


def mo_path(language: str) -> Path:
    return po_path(language).with_suffix(".mo")


def compiled_is_current(language: str, catalog: Catalog) -> bool:
    """True if the .mo file of `language` maps the same messages to the same translations as `catalog`."""
    if not mo_path(language).exists():
        return False
    with mo_path(language).open("rb") as f:
        on_disk = read_mo(f)
    return translations(on_disk) == translations(read_mo(io.BytesIO(serialize_mo(catalog))))


def update() -> None:
    fresh = template()
    for language in TRANSLATED:
        catalog = load(language)
        catalog.update(fresh, update_creation_date=False)
        catalog.obsolete.clear()  # a removed message is gone; a changed one was kept above as fuzzy
        catalogs.save(po_path(language), catalog, sort=True)
        print(f"updated {po_path(language).relative_to(ROOT)}")


def compile_all() -> None:
    for language in TRANSLATED:
        path = mo_path(language)
        path.write_bytes(serialize_mo(load(language)))
        print(f"wrote {path.relative_to(ROOT)}")


def placeholders(text: str) -> set[str]:
    return {field for _literal, field, _spec, _conv in string.Formatter().parse(text) if field is not None}


def problems() -> list[str]:
    """Everything that keeps the catalogs from being complete and current, one line each."""
    found = []
    wanted = {message.id for message in template() if message.id}
    for language in TRANSLATED:
        catalog = load(language)
        have = {message.id: message for message in catalog if message.id}
        for msgid in sorted(wanted - have.keys()):
            found.append(f"{language}: not in the catalog (run update): {msgid!r}")
        for msgid, message in sorted(have.items()):
            if msgid not in wanted:
                found.append(f"{language}: no longer used by the code (run update): {msgid!r}")
            elif not message.string:
                found.append(f"{language}: not translated: {msgid!r}")
            elif message.fuzzy:
                found.append(f"{language}: fuzzy (the English changed; check and clear the flag): {msgid!r}")
            elif placeholders(message.string) != placeholders(msgid):
                found.append(f"{language}: placeholders differ from the English: {msgid!r}")
            elif "$" in message.string and JAPANESE.search(message.string):
                found.append(f"{language}: $math$ beside Japanese, which matplotlib's math font cannot draw: {msgid!r}")
        found += [f"{language}: obsolete entry (run update): {m.id!r}" for m in catalog.obsolete.values()]
        if not compiled_is_current(language, catalog):
            found.append(f"{language}: {mo_path(language).relative_to(ROOT)} is out of date (run compile)")
    return found


def main() -> int:
    command = sys.argv[1] if len(sys.argv) > 1 else ""
    if command == "update":
        update()
    elif command == "compile":
        compile_all()
    elif command == "check":
        found = problems()
        print("\n".join(found) or "all messages translated and compiled")
        return 1 if found else 0
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
