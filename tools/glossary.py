"""The glossary check: German and Japanese prose must render each term as GLOSSARY.md says.

GLOSSARY.md (at the repository root) is the source of truth; this module reads its table:

    | English | Deutsch | 日本語 | not in German | not in Japanese |

A cell lists alternatives separated by "," or "/"; text in parentheses is an accepted variant too
("全単射 (bijector)" accepts 全単射 and bijector; "pl. " marks a plural). Two checks per translated paragraph:

1. *rejected renderings*: no entry of the "not in ..." columns may appear (as a whole word; German
   endings allowed, so "Bijection" does not reject the English title word "Bijectivity");
2. *required renderings*: if the English paragraph uses a term (as a whole word, plural allowed),
   the translation must contain one of the term's renderings. German matches ignore case, umlauts
   and inflection (each word of six or more letters is matched by all but its last two letters, so
   "inverser Durchlauf" matches "inversen Durchläufe"); Japanese matches exactly.

Formulas (`$...$`) and code (backticks) are left out. A translator who has a good reason to word a
term differently in one paragraph adds the comment `# glossary-skip: <English term>` above the entry.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from babel.messages.catalog import Message

GLOSSARY = Path(__file__).resolve().parents[1] / "GLOSSARY.md"
IGNORED = re.compile(r"\$\$.*?\$\$|\$[^$]*\$|```.*?```|`[^`]*`", re.S)


@dataclass(frozen=True)
class Term:
    english: tuple[str, ...]
    renderings: dict[str, tuple[str, ...]]  # language -> accepted forms
    rejected: dict[str, tuple[str, ...]]  # language -> forms the check refuses


def forms(cell: str) -> tuple[str, ...]:
    """The accepted forms in one glossary cell: each alternative, and what its parentheses hold."""
    found = []
    for alternative in re.split(r"\s*[,/]\s*(?![^()]*\))", cell):
        inside = re.findall(r"\(([^)]*)\)", alternative)
        outside = re.sub(r"\([^)]*\)", "", alternative).strip()
        found += [outside, *(text.removeprefix("pl. ").strip() for text in inside)]
    return tuple(form for form in found if form)


@cache
def terms() -> tuple[Term, ...]:
    rows = [line for line in GLOSSARY.read_text(encoding="utf-8").splitlines() if line.startswith("| ")]
    table = []
    for row in rows[1:]:  # the first row is the header
        english, german, japanese, not_german, not_japanese = (c.strip() for c in row.strip().strip("|").split("|"))
        english_forms = tuple(re.sub(r"\([^)]*\)", "", e).strip() for e in re.split(r"\s*[,/]\s*", english))
        table.append(
            Term(
                english=tuple(e for e in english_forms if e),
                renderings={"de": forms(german), "ja": forms(japanese)},
                rejected={"de": forms(not_german), "ja": forms(not_japanese)},
            )
        )
    return tuple(table)


def prose(text: str) -> str:
    return IGNORED.sub(" ", text)


def uses(english_text: str, term: str) -> bool:
    return re.search(rf"\b{re.escape(term)}(s|es)?\b", english_text, re.IGNORECASE) is not None


def german(text: str) -> str:
    return text.lower().translate(str.maketrans("äöü", "aou"))


def contains(translation: str, form: str, language: str) -> bool:
    """Whether `translation` uses `form`; in German each word may be inflected ("inversen Durchläufe")."""
    if language == "ja":
        return form in translation
    stems = [word[:-2] if len(word) >= 6 else word for word in german(form).split()]
    return re.search(r"\w*\W+".join(re.escape(stem) for stem in stems), german(translation)) is not None


def rejected(translation: str, form: str, language: str) -> bool:
    """Whether `translation` uses a rejected `form`: the whole word, at most with a German ending."""
    if language == "ja":
        return form in translation
    pattern = rf"\b{re.escape(german(form))}(e|n|en|s|es|er|em)?\b"
    return re.search(pattern, german(translation)) is not None


def issues(message: Message, language: str) -> list[str]:
    """What a translated entry does against the glossary, one line each."""
    skipped = {c.split(":", 1)[1].strip().lower() for c in message.user_comments if c.startswith("glossary-skip:")}
    english, translation = prose(message.id), prose(message.string)
    found = []
    for term in terms():
        for form in term.rejected[language]:
            if rejected(translation, form, language):
                found.append(f"uses {form!r}; the glossary says {' / '.join(term.renderings[language])!r}")
        used = [e for e in term.english if uses(english, e) and e.lower() not in skipped]
        accepted = term.renderings[language]
        if used and accepted and not any(contains(translation, form, language) for form in accepted):
            found.append(f"the English says {used[0]!r}; expected one of {', '.join(accepted)!r} (GLOSSARY.md)")
    return found
