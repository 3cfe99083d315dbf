"""German and Japanese notebooks fail where they print English: the check itself, and its hook into nbval."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from nfcourse.i18n import _ as translate
from nfcourse.i18n import using_language
from tools.output_language import WIDGET, problems

ROOT = Path(__file__).resolve().parents[1]
MESSAGE = "{what}: {value:.3f} (target in full mode: at most {bound:.3f}; fast mode, not checked)"  # translated


def stdout(text: str) -> dict:
    return {"output_type": "stream", "name": "stdout", "text": text}


def printed(language: str) -> str:
    with using_language(language):
        return translate(MESSAGE).format(what="NLL", value=0.5, bound=1.0)


@pytest.mark.parametrize("language", ["de", "ja"])
def test_an_english_message_is_found_and_its_translation_is_not(language: str) -> None:
    assert any("English message" in line for line in problems([stdout(printed("en"))], language))
    assert problems([stdout(printed(language))], language) == []


def test_python_truth_values_and_english_decimals_are_found_in_german_text() -> None:
    assert problems([stdout("gleich: True")], "de") == ["Python's True in printed text"]
    assert problems([stdout("Test-NLL 0.534 Nats")], "de") == ["English decimal point in '0.534'"]
    assert problems([stdout("Test-NLL 0,534 Nats, u = [0.839, -0.926], tensor([[0.5, 1.0]])")], "de") == []
    assert problems([stdout("17.412 Parameter, 138.400 und 1.024.000")], "de") == []  # German thousands
    assert problems([stdout("Zeit 12.25 ms")], "de") == ["English decimal point in '12.25'"]
    assert problems([stdout("Differenz 8.88e-16")], "de") == ["English decimal point in '8.88e-16'"]
    assert problems([stdout("テスト NLL 0.534 nat")], "ja") == []  # Japanese writes a decimal point


def test_a_widget_is_judged_by_its_view_not_by_its_text_fallback() -> None:
    fallback = "FloatSlider value 0.9, max 0.995"  # the Python repr a front end without widgets would show
    widget = {"output_type": "display_data", "data": {"text/plain": fallback, WIDGET: {"model_id": "1"}}}
    assert problems([widget], "de") == []
    plain = {"output_type": "display_data", "data": {"text/plain": fallback}}
    assert problems([plain], "de") == ["English decimal point in '0.9'", "English decimal point in '0.995'"]


def test_english_labels_of_an_html_player_are_found() -> None:
    html = {"output_type": "display_data", "data": {"text/html": '<button title="Play">▶</button>'}}
    assert problems([html], "de") == ["English label in HTML: 'Play'"]
    with using_language("de"):
        translated = html["data"]["text/html"].replace('"Play"', f'"{translate("Play")}"')
    assert problems([{**html, "data": {"text/html": translated}}], "de") == []
    assert problems([html], "en") == []


@pytest.mark.parametrize(("language", "fails"), [("en", False), ("de", True)])
def test_nbval_fails_the_cell_of_a_german_notebook_that_prints_english(tmp_path: Path, language: str, fails) -> None:
    """The hook in conftest.py, run by pytest on a notebook in notebooks/<language>/ that prints an English message."""
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(f"print({printed('en')!r})")])
    path = tmp_path / "notebooks" / language / "demo.ipynb"
    path.parent.mkdir(parents=True)
    nbformat.write(notebook, path)
    shutil.copy(ROOT / "conftest.py", tmp_path / "conftest.py")
    command = [sys.executable, "-m", "pytest", "--nbval-lax", "--nbval-current-env", "-p", "no:cacheprovider"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run([*command, str(path)], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert (result.returncode != 0) == fails, result.stdout
    assert ("printed English" in result.stdout) == fails
