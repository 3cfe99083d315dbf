"""The files the site serves itself, so that no page needs the network: MathJax and a font with Japanese glyphs.

MathJax 3 comes from the package `django-static-mathjax`, which ships MathJax's own release (3.2.2, Apache
License 2.0) as plain files and needs nothing else installed (no Django). Only the combined TeX-to-HTML
component, the parts it loads on demand (fonts, TeX extensions, the menu and its accessibility modules) and
MathJax's LICENSE are copied, once for all languages.

The Japanese font is IPAexGothic from `matplotlib-fontja`, the package that already draws the Japanese
plots. The IPA Font License v1.0 allows redistributing the font unmodified, under its own name, with a copy
of the license: the whole folder (ipaexg.ttf, the license and the font's readme) is served as it is, once
for all languages (every page names 日本語 in its language switcher).
"""

from __future__ import annotations

import shutil
from importlib import metadata
from pathlib import Path

import matplotlib_fontja

MATHJAX_DISTRIBUTION = "django-static-mathjax"
MATHJAX_ENTRY = "tex-chtml.js"
MATHJAX_PARTS = (MATHJAX_ENTRY, "input", "output", "ui", "a11y", "sre", "adaptors")  # of its es5/ folder
JAPANESE_FONT_FOLDER = Path(matplotlib_fontja.__file__).parent / "fonts"


def mathjax_folder() -> Path:
    """MathJax's release folder inside the installed `django-static-mathjax` (its browser build is in es5/)."""
    folder = Path(metadata.distribution(MATHJAX_DISTRIBUTION).locate_file("mathjax/static/mathjax"))
    if not (folder / "es5" / MATHJAX_ENTRY).is_file():
        raise FileNotFoundError(f"{folder / 'es5' / MATHJAX_ENTRY} is missing: reinstall {MATHJAX_DISTRIBUTION}")
    return folder


def copy_mathjax(target: Path) -> None:
    """Copy the parts of MathJax that the site loads into `target` (replacing what was there)."""
    source = mathjax_folder() / "es5"
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    shutil.copy2(source.parent / "LICENSE", target / "LICENSE")
    for part in MATHJAX_PARTS:
        if (source / part).is_dir():
            shutil.copytree(source / part, target / part)
        elif (source / part).is_file():
            shutil.copy2(source / part, target / part)


def copy_japanese_font(target: Path) -> None:
    """Copy the font folder (font, license, readme) into `target`, unchanged, as its license asks."""
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(JAPANESE_FONT_FOLDER, target)
