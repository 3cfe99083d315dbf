"""The course website: every notebook of the course with its outputs, in three languages, as static HTML.

    python -m tools.site          build build/site/ from fast-mode outputs (what `python3 course.py site` runs)
    python -m tools.site --full   the same from full-mode outputs, for publishing
    python -m tools.site --full --repository https://github.com/OWNER/NAME   with "Open in Colab" links there

The steps, one module each:

- `outputs`    the executed notebooks: those the last nbval run left in build/executed/<mode>/ when they
               still match their source, the others run now with nbclient, several at once;
- `sources`    one Sphinx source folder per language under build/site-src/: the course map as start page,
               and the executed notebooks laid out as in the repository;
- `conf`, `extension`, `pages`   Sphinx with MyST-NB and the Furo theme, plus the site's own bar on every
               page: the language switcher, and on a notebook page its other kinds, the course map,
               "Download the notebook", and "Open in Colab" when `--repository` names the course on GitHub;
- `assets`     MathJax and the Japanese font, copied from installed packages, so the site needs no network;
- `offline`    the check that no page loads a script, a style sheet or a font from another host.

The site lands in build/site/: `index.html` lets the reader choose a language, `en/`, `de/` and `ja/` hold
one Sphinx site each, and `_mathjax/` the MathJax they share.
"""
