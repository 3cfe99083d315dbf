"""Reading and writing gettext catalogs the same way everywhere: fixed header, stable bytes, previous msgids kept.

A fuzzy entry keeps the English it was translated from as gettext's "previous msgid" (`#| msgid ...` lines),
so a translator sees what changed. Babel 2.x writes those lines through its comment wrapper, which breaks
long ones mid-string, and reads them back as plain comments; so this module writes and reads them itself.
"""

from __future__ import annotations

import datetime
import io
import re
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import denormalize, normalize, read_po, write_po

FIXED_DATE = datetime.datetime(2026, 11, 23, tzinfo=datetime.timezone.utc)  # keeps the files byte-stable
GENERATED_BY = re.compile(r'^"Generated-By: [^"\n]*\\n"\n', re.M)


def new_catalog(language: str | None = None) -> Catalog:
    """An empty catalog with the project's header (no dates that change from run to run)."""
    return Catalog(
        locale=language,
        project="nfcourse",
        version="0.1",
        copyright_holder="the nfcourse authors",
        creation_date=FIXED_DATE,
        revision_date=FIXED_DATE,
        last_translator="the nfcourse authors",
        language_team=f"nfcourse {language}" if language else None,
        fuzzy=False,
    )


def load(path: Path, language: str) -> Catalog:
    """The catalog at `path`, or an empty one if the file does not exist yet."""
    if not path.exists():
        return new_catalog(language)
    with path.open("rb") as f:
        catalog = read_po(f, locale=language)
    for message in catalog:
        previous = [comment[1:].strip() for comment in message.user_comments if comment.startswith("|")]
        if previous:
            message.user_comments = [comment for comment in message.user_comments if not comment.startswith("|")]
            message.previous_id = [denormalize("\n".join(previous).removeprefix("msgid ").strip())]
    return catalog


def previous_lines(previous_id: str) -> str:
    """`#| msgid "..."` lines, one per line of the text, never wrapped."""
    return "#| msgid " + normalize(previous_id, prefix="#| ", width=0) + "\n"


def with_previous_ids(text: str, catalog: Catalog) -> str:
    """Put each fuzzy entry's previous msgid in front of its msgctxt (or msgid) line in a written .po text."""
    blocks = text.split("\n\n")
    for k, block in enumerate(blocks):
        if "msgid " not in block:
            continue
        entry = next((m for m in read_po(io.StringIO(block)) if m.id), None)  # the block's message, parsed alone
        found = entry is not None and catalog.get(entry.id, context=entry.context)
        if not found or not found.fuzzy or not found.previous_id:
            continue
        previous = found.previous_id[0]
        lines = block.split("\n")
        start = next(i for i, line in enumerate(lines) if line.startswith(("msgctxt ", "msgid ")))
        head = "".join(line + "\n" for line in lines[:start])
        blocks[k] = head + previous_lines(previous) + "\n".join(lines[start:])
    return "\n\n".join(blocks)


def save(path: Path, catalog: Catalog, *, sort: bool) -> None:
    """Write `catalog` as a .po file: no line wrapping, previous msgids of fuzzy entries kept.

    Babel writes its own version into the header ("Generated-By"); that line is left out, so that a new
    babel release does not change every catalog it saves.
    """
    buffer = io.BytesIO()
    write_po(buffer, catalog, width=0, include_previous=False, include_lineno=False, sort_output=sort)
    text = GENERATED_BY.sub("", buffer.getvalue().decode("utf-8"), count=1)
    text = with_previous_ids(text, catalog)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode("utf-8"))
