"""Lesson translations: complete and current, flagged when the English changes, checked against the glossary."""

from __future__ import annotations

import pytest
from babel.messages.catalog import Message

from tools import build, glossary, translations
from tools.catalogs import new_catalog
from tools.lessons import lesson_folders


@pytest.mark.parametrize("folder", lesson_folders(), ids=lambda folder: folder.name)
def test_every_prose_cell_has_a_current_german_and_japanese_translation_on_the_glossary(folder) -> None:
    problems = translations.problems(folder)
    assert not problems, "\n".join(problems)


def catalog_with(context: str, english: str, german: str, fuzzy: bool = False):
    catalog = new_catalog("de")
    catalog[english] = Message(english, german, context=context, flags={"fuzzy"} if fuzzy else ())
    return catalog


def entry(catalog, context: str) -> Message:
    return next(m for m in catalog if m.context == context and m.id)


def test_changed_english_makes_the_translation_fuzzy_and_keeps_what_it_was_made_from() -> None:
    old = catalog_with("lecture/goals", "Old text.", "Alter Text.")
    new = translations.merged(old, [("lecture/goals", "New text.")], "de")
    message = entry(new, "lecture/goals")
    assert message.fuzzy and message.string == "Alter Text." and list(message.previous_id) == ["Old text."]


def test_a_second_change_keeps_the_original_english_as_previous() -> None:
    old = catalog_with("lecture/goals", "Old text.", "Alter Text.")
    once = translations.merged(old, [("lecture/goals", "New text.")], "de")
    twice = translations.merged(once, [("lecture/goals", "Newer text.")], "de")
    assert list(entry(twice, "lecture/goals").previous_id) == ["Old text."]


def test_unchanged_english_keeps_its_translation_and_a_removed_cell_becomes_obsolete() -> None:
    old = catalog_with("lecture/a", "Same.", "Gleich.")
    old["Gone."] = Message("Gone.", "Weg.", context="lecture/b")
    new = translations.merged(old, [("lecture/a", "Same.")], "de")
    assert entry(new, "lecture/a").string == "Gleich." and not entry(new, "lecture/a").fuzzy
    assert [m.id for m in new.obsolete.values()] == ["Gone."]


def test_build_marks_outdated_and_missing_paragraphs_with_a_banner() -> None:
    catalog = catalog_with("lecture/a", "Old.", "Alt.", fuzzy=True)
    assert "outdated" in build.translate("New.", "lecture/a", catalog) and "Alt." in build.translate(
        "New.", "lecture/a", catalog
    )
    assert "not translated yet" in build.translate("Other.", "lecture/b", catalog)
    assert build.translate("Same.", "lecture/a", catalog_with("lecture/a", "Same.", "Gleich.")) == "Gleich."


@pytest.mark.parametrize(
    ("english", "translation", "language", "complaint"),
    [
        ("The bijector maps u to x.", "Der Bijektor bildet u auf x ab.", "de", None),
        ("The bijector maps u to x.", "Die Abbildung bildet u auf x ab.", "de", "expected one of"),
        ("A coupling layer splits x.", "Eine Coupling-Schicht teilt x.", "de", "uses 'Coupling-Schicht'"),
        ("The base distribution is normal.", "基底分布は正規分布です。", "ja", None),
        ("The base distribution is normal.", "ベース分布は正規分布です。", "ja", "uses 'ベース分布'"),
        ("Coupling layers split x.", "Kopplungsschichten teilen x.", "de", None),
    ],
)
def test_glossary_check(english: str, translation: str, language: str, complaint: str | None) -> None:
    found = glossary.issues(Message(english, translation), language)
    assert (not found) if complaint is None else any(complaint in line for line in found), found


def test_glossary_skip_comment_allows_a_deliberate_exception() -> None:
    message = Message(
        "The bijector maps u to x.", "Die Abbildung bildet u auf x ab.", user_comments=["glossary-skip: bijector"]
    )
    assert glossary.issues(message, "de") == []


def test_previous_english_of_a_fuzzy_entry_survives_a_save_and_load(tmp_path) -> None:
    """Babel wraps `#| msgid` lines and reads them back as comments; catalogs.save/load keep them whole."""
    from tools import catalogs

    old = "## Title\n\nA line long enough to be wrapped by a comment wrapper " + "word " * 20 + '\nwith "quotes"'
    catalog = catalog_with("lecture/goals", "New text.", "Alter Text.", fuzzy=True)
    entry(catalog, "lecture/goals").previous_id = [old]
    catalogs.save(tmp_path / "de.po", catalog, sort=False)
    back = entry(catalogs.load(tmp_path / "de.po", "de"), "lecture/goals")
    assert back.fuzzy and list(back.previous_id) == [old] and back.user_comments == []
    catalogs.save(tmp_path / "again.po", catalogs.load(tmp_path / "de.po", "de"), sort=False)
    assert (tmp_path / "again.po").read_bytes() == (tmp_path / "de.po").read_bytes()


def test_a_saved_catalog_does_not_name_the_babel_version(tmp_path) -> None:
    """babel writes "Generated-By: Babel x.y" into the header; a new release must not change every catalog."""
    from tools import catalogs

    catalogs.save(tmp_path / "de.po", catalog_with("lecture/goals", "Text.", "Text."), sort=False)
    text = (tmp_path / "de.po").read_text(encoding="utf-8")
    assert "Generated-By" not in text and 'msgid "Text."' in text
