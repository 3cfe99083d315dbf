"""Lining up printed text in a notebook when some characters are twice as wide as others.

In a monospace font a Japanese (CJK) character takes two columns, so `f"{text:>16}"`, which counts
characters, misaligns tables. These helpers count display columns instead (Unicode's East Asian Width:
"W"ide and "F"ullwidth characters count 2).
"""

from __future__ import annotations

import unicodedata

from nfcourse.i18n import number


def display_width(text: str) -> int:
    """The number of monospace columns `text` takes."""
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def right_align(text: object, width: int) -> str:
    """`text` padded on the left with spaces to `width` display columns (never cut)."""
    text = str(text)
    return " " * max(0, width - display_width(text)) + text


def print_table(headers: list[str], rows: list[list[object]]) -> None:
    """Print a table with right-aligned columns, each as wide as its widest entry (display columns) plus 2."""
    table = [[str(entry) for entry in row] for row in [headers, *rows]]
    widths = [max(display_width(row[k]) for row in table) + 2 for k in range(len(headers))]
    for row in table:
        print("".join(right_align(entry, width) for entry, width in zip(row, widths, strict=True)))


def print_rows(rows: list[tuple[str, object]], spec: str = "") -> None:
    """Print (label, value) pairs with the values lined up in one column, numbers as `number(value, spec)`."""
    column = max(display_width(label) for label, _value in rows)
    for label, value in rows:
        print(label + " " * (column - display_width(label)), "", number(value, spec))
