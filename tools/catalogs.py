"""Reading and writing gettext catalogs the same way everywhere: fixed header, stable bytes, previous msgids kept."""

from __future__ import annotations

import datetime
import io
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

FIXED_DATE = datetime.datetime(2026, 11, 23, tzinfo=datetime.timezone.utc)  # keeps the files byte-stable


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
        return read_po(f, locale=language)


def save(path: Path, catalog: Catalog, *, sort: bool) -> None:
    """Write `catalog` as a .po file: no line wrapping, previous msgids of fuzzy entries kept."""
    buffer = io.BytesIO()
    write_po(buffer, catalog, width=0, include_previous=True, include_lineno=False, sort_output=sort)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buffer.getvalue())
