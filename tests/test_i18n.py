"""Messages a learner reads exist in English, German and Japanese, through gettext catalogs."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

from nfcourse import i18n
from nfcourse.bijectors import AffineLU
from nfcourse.flow import Flow
from tools import messages

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def language() -> Iterator[None]:
    before = i18n.get_language()
    yield
    i18n.set_language(before)


def test_catalogs_are_complete_current_and_compiled() -> None:
    problems = messages.problems()
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(
    ("lang", "expected"),
    [("en", "must have 2 columns"), ("de", "muss 2 Spalten haben"), ("ja", "2 列")],
)
def test_errors_speak_the_chosen_language(language: None, lang: str, expected: str) -> None:
    i18n.set_language(lang)
    with pytest.raises(ValueError, match=expected):
        Flow(AffineLU(2), dim=2).log_prob(torch.zeros(3, 5))


def test_unknown_language_is_refused_with_the_choices(language: None) -> None:
    with pytest.raises(ValueError, match="en, de, ja"):
        i18n.set_language("fr")


def test_language_can_be_chosen_by_environment_variable() -> None:
    code = "from nfcourse.i18n import get_language; print(get_language())"
    env = {**os.environ, "NFCOURSE_LANG": "ja"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "ja"


def test_a_compiled_catalog_is_current_when_it_maps_the_same_messages(tmp_path, monkeypatch) -> None:
    """Another babel release writes another header into the .mo; only a changed translation makes it stale."""
    catalog = messages.load("de")
    monkeypatch.setattr(messages, "mo_path", lambda language: tmp_path / f"{language}.mo")
    assert not messages.compiled_is_current("de", catalog)  # no file yet
    compiled = messages.serialize_mo(catalog)
    header = re.search(rb"Generated-By: Babel [0-9.]+", compiled)
    assert header is not None
    another_release = re.sub(rb"[0-8]", b"9", header[0])  # same length, so the file stays valid
    (tmp_path / "de.mo").write_bytes(compiled.replace(header[0], another_release))
    assert (tmp_path / "de.mo").read_bytes() != compiled
    assert messages.compiled_is_current("de", messages.load("de"))
    changed = messages.load("de")
    message = next(m for m in changed if m.id and m.string)
    message.string = message.string + " (changed)"
    assert not messages.compiled_is_current("de", changed)


def test_a_japanese_label_with_math_beside_japanese_text_is_reported(monkeypatch) -> None:
    """matplotlib draws a whole label that contains $...$ in its math font, which has no Japanese glyphs."""
    from tools.catalogs import new_catalog

    english = "$x_1$ along the line $x_2 = 0$"
    template, japanese = new_catalog(), new_catalog("ja")
    template.add(english)
    japanese.add(english, "直線 $x_2 = 0$ 上の $x_1$")
    monkeypatch.setattr(messages, "template", lambda: template)
    monkeypatch.setattr(messages, "load", lambda language: japanese if language == "ja" else template)
    assert any("math font" in line for line in messages.problems())
    japanese[english].string = "直線 x₂ = 0 上の x₁"
    assert not any("math font" in line for line in messages.problems())
