"""The German and Japanese prose of each lesson: lessons/NN_slug/{de,ja}.po, one entry per cell.

    python -m tools.translations update [NN_slug ...]   bring the catalogs in step with the English sources
    python -m tools.translations check  [NN_slug ...]   list what is missing, fuzzy, obsolete or off the glossary

Each entry's context is `<source>/<cell key>` (`sheet/<key>/docstring` for a task's docstring), so an
entry follows its cell wherever the cell moves. When the English text of a cell changes, `update` keeps
the old translation, marks it fuzzy and records the English it was made from (`#| msgid`), so the
translator sees exactly what changed; the build shows such a paragraph with an "outdated" banner.
Entries whose cell is gone become obsolete (`#~`): delete them once nothing in them is worth reusing.
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.catalog import Catalog, Message

from tools import catalogs, glossary
from tools.lessons import TRANSLATED, docstring, lesson_folders, sources


def po_path(folder: Path, language: str) -> Path:
    return folder / f"{language}.po"


def template(folder: Path) -> list[tuple[str, str]]:
    """(context, English text) of every translatable piece of a lesson, in the order of its sources."""
    pieces = []
    for source in sources(folder):
        for cell in source.cells:
            if cell.kind == "markdown":
                pieces.append((f"{source.name}/{cell.key}", cell.source))
            elif cell.is_task and (text := docstring(cell)):
                pieces.append((f"{source.name}/{cell.key}/docstring", text))
    return pieces


def merged(old: Catalog, pieces: list[tuple[str, str]], language: str) -> Catalog:
    """A catalog for `pieces`, keeping every translation of `old` under its context (see the module docstring)."""
    by_context = {message.context: message for message in old if message.id}
    new = catalogs.new_catalog(language)
    for context, english in pieces:
        before = by_context.pop(context, None)
        if before is None:
            new.add(english, "", context=context)
        elif before.id == english:
            new[english] = Message(
                english,
                before.string,
                flags=before.flags,
                user_comments=before.user_comments,
                previous_id=before.previous_id,
                context=context,
            )
        else:  # the English changed: keep the translation, flag it, remember what it was made from
            made_from = before.previous_id if before.fuzzy and before.previous_id else before.id
            new[english] = Message(
                english,
                before.string,
                flags={"fuzzy"},
                user_comments=before.user_comments,
                previous_id=made_from,
                context=context,
            )
    for message in [*by_context.values(), *old.obsolete.values()]:
        new.obsolete[(message.id, message.context)] = message
    return new


def update(folder: Path) -> None:
    pieces = template(folder)
    for language in TRANSLATED:
        path = po_path(folder, language)
        catalogs.save(path, merged(catalogs.load(path, language), pieces, language), sort=False)
        print(f"updated {path.relative_to(folder.parent.parent)}")


def problems(folder: Path) -> list[str]:
    """Every entry of the lesson's catalogs that keeps it from being complete, current and on the glossary."""
    found, wanted = [], dict(template(folder))
    for language in TRANSLATED:
        catalog = catalogs.load(po_path(folder, language), language)
        have = {message.context: message for message in catalog if message.id}
        prefix = f"{folder.name}/{language}.po"
        for context in wanted.keys() - have.keys():
            found.append(f"{prefix}: {context}: not in the catalog (run update)")
        for context, message in have.items():
            if context not in wanted or message.id != wanted[context]:
                found.append(f"{prefix}: {context}: the English changed or the cell is gone (run update)")
            elif not message.string:
                found.append(f"{prefix}: {context}: not translated")
            elif message.fuzzy:
                found.append(f"{prefix}: {context}: fuzzy (the English changed; update and clear the flag)")
            else:
                found += [f"{prefix}: {context}: {issue}" for issue in glossary.issues(message, language)]
        found += [f"{prefix}: obsolete entry {m.context or m.id!r} (delete it)" for m in catalog.obsolete.values()]
    return found


def main() -> int:
    command, names = (sys.argv[1] if len(sys.argv) > 1 else ""), sys.argv[2:]
    folders = [folder for folder in lesson_folders() if not names or folder.name in names]
    if command == "update":
        for folder in folders:
            update(folder)
    elif command == "check":
        found = [line for folder in folders for line in problems(folder)]
        print("\n".join(found) or "every lesson is translated, current and on the glossary")
        return 1 if found else 0
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
