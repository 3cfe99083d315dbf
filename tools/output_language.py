"""What an executed German or Japanese notebook must not print: English that the catalogs translate.

The notebooks are run as tests by nbval; `conftest.py` (at the repository root) hands the outputs of every
cell of a German or Japanese notebook to `problems`, so a notebook that prints a library message in English
fails at that very cell. Three kinds of English are looked for:

- a message of `nfcourse/locale` (a `_()` in the library or a `tr()` in a lesson) that has a translation,
  recognised by a piece of its English text that the translation does not contain;
- Python's `True` and `False` in printed text (messages write "ja"/"はい" instead);
- in German text, a number with an English decimal point outside brackets (German writes 0,534; lists and
  tensors in brackets are code and keep Python's notation). A point followed by groups of three digits is
  a German thousands separator (17.412), not a decimal point.
"""

from __future__ import annotations

import re
import string
from functools import cache

from tools import messages

MIN_PROBE = 12  # characters: shorter fragments ("data", "seed 0") also occur inside other text
HTML_LABELS = re.compile(r'(?:title|aria-label)="([^"]*)"|>([^<>]+)</label>')
BRACKETS = re.compile(r"\[[^\[\]]*\]|\([^()]*\)")
BOOLEAN = re.compile(r"\b(True|False)\b")
ENGLISH_DECIMAL = re.compile(r"(?<![\w.])\d+\.\d+(?:e[+-]?\d+)?(?![\w.])")
GERMAN_THOUSANDS = re.compile(r"[1-9]\d{0,2}(\.\d{3})+")


def fragments(english: str) -> list[str]:
    """The literal pieces of a message between its {placeholders}."""
    return [literal.strip() for literal, *_rest in string.Formatter().parse(english) if literal.strip()]


@cache
def english_probes(language: str) -> tuple[tuple[str, ...], frozenset[str]]:
    """Pieces of English that give away an untranslated message, and the full texts of short labels.

    A piece is kept only if it is long enough to be unmistakable and does not occur in the translation
    (a formula or a class name that both languages share is no sign of English).
    """
    pieces, labels = [], set()
    for message in messages.load(language):
        if not message.id or not message.string or message.string == message.id:
            continue
        labels.add(message.id)
        for piece in fragments(message.id):
            if len(piece) >= MIN_PROBE and " " in piece and piece not in message.string:
                pieces.append(piece)
    return tuple(sorted(set(pieces), key=len, reverse=True)), frozenset(labels)


def without_brackets(text: str) -> str:
    """`text` with every bracketed span removed, innermost first: lists, tensors and tuples are code."""
    while (shorter := BRACKETS.sub(" ", text)) != text:
        text = shorter
    return text


WIDGET = "application/vnd.jupyter.widget-view+json"


def output_texts(output: dict) -> tuple[list[str], list[str]]:
    """(plain texts, HTML texts) of one nbformat output."""
    if output.get("output_type") == "stream" and output.get("name") == "stdout":
        return [output.get("text", "")], []
    data = output.get("data", {})
    if WIDGET in data:  # a live widget: the reader sees its view, not its text/plain fallback (a Python repr)
        return [], []
    if output.get("output_type") == "display_data":
        return [data.get("text/plain", "")] if "text/html" not in data else [], [data.get("text/html", "")]
    return [], []


def problems(outputs: list[dict], language: str) -> list[str]:
    """One line for each piece of English found in the outputs of a cell of a `language` notebook."""
    if language not in messages.TRANSLATED:
        return []
    pieces, labels = english_probes(language)
    found = []
    for output in outputs:
        plain, html = output_texts(output)
        for text in plain:
            found += [f"English message: {piece!r}" for piece in pieces if piece in text]
            found += [f"Python's {word} in printed text" for word in sorted(set(BOOLEAN.findall(text)))]
            if language == "de":
                numbers = ENGLISH_DECIMAL.findall(without_brackets(text))
                decimals = [number for number in numbers if not GERMAN_THOUSANDS.fullmatch(number)]
                found += [f"English decimal point in {number!r}" for number in sorted(set(decimals))]
        for text in html:
            for attribute, label in HTML_LABELS.findall(text):
                shown = (attribute or label).strip()
                if shown in labels:
                    found.append(f"English label in HTML: {shown!r}")
    return found
