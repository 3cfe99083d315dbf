"""Build the course website into build/site/: `python -m tools.site [--full] [--jobs N]` (see __init__.py)."""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from pathlib import Path

from tools.lessons import LANGUAGES, ROOT
from tools.site import assets, outputs, pages, sources

SITE = ROOT / "build" / "site"
SOURCES = ROOT / "build" / "site-src"
DOCTREES = ROOT / "build" / "site-doctrees"
CONF = Path(__file__).parent


def sphinx(lang: str, mode: str, repository: str) -> subprocess.Popen:
    """Start Sphinx on the source folder of `lang`; it writes build/site/<lang>/."""
    # -a writes every page, so that the bar and the sidebar follow a change of the site's code or words; the
    # notebooks are parsed again only when they changed (Sphinx keeps them in DOCTREES).
    command = [sys.executable, "-m", "sphinx", "-b", "html", "-a", "-q", "-W", "--keep-going", "-c", str(CONF)]
    command += ["-D", f"language={lang}", "-D", f"nfcourse_mode={mode}", "-D", f"nfcourse_repository={repository}"]
    command += ["-d", str(DOCTREES / lang)]
    return subprocess.Popen([*command, str(SOURCES / lang), str(SITE / lang)], cwd=ROOT)


def build(mode: str, jobs: int | None, repository: str) -> None:
    notebooks = outputs.executed_notebooks(outputs.generated_notebooks(), mode, jobs)
    for lang in LANGUAGES:
        sources.stage(lang, {p: nb for p, nb in notebooks.items() if p.parent.name == lang}, SOURCES / lang)
    started = time.perf_counter()
    builds = {lang: sphinx(lang, mode, repository) for lang in LANGUAGES}  # one process per language, side by side
    failed = [lang for lang, process in builds.items() if process.wait() != 0]
    if failed:
        raise SystemExit(f"Sphinx failed for {', '.join(failed)} (its messages are above)")
    shutil.rmtree(SITE / "jupyter_execute", ignore_errors=True)  # MyST-NB's scratch folder, beside the outdir
    print(f"Sphinx wrote {len(LANGUAGES)} languages in {time.perf_counter() - started:.0f} s", flush=True)
    for path in notebooks:  # "Download the notebook": the notebook as in the repository, beside its page
        target = SITE / path.parent.name / path.relative_to(ROOT)
        shutil.copy2(path, target)
    assets.copy_mathjax(SITE / "_mathjax")
    assets.copy_japanese_font(SITE / "_fonts")
    (SITE / "index.html").write_text(pages.language_chooser(), encoding="utf-8")


def main() -> int:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--full", action="store_true", help="outputs from full-mode runs (for publishing)")
    options.add_argument("--jobs", type=int, help="notebooks run at once where outputs are missing (default: cores)")
    options.add_argument(
        "--repository",
        default="",
        help='the course\'s GitHub address, https://github.com/OWNER/NAME, for the "Open in Colab" links '
        "(without it the pages have none)",
    )
    args = options.parse_args()
    try:
        repository = pages.checked_repository(args.repository)
    except ValueError as error:
        options.error(str(error))
    try:
        build("full" if args.full else "fast", args.jobs, repository)
    except outputs.NotebookError as error:
        print(f"The site was not built: {error}", file=sys.stderr)
        return 1
    print(f"The site is in {SITE.relative_to(ROOT)}/; view it with: python -m http.server -d {SITE.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
