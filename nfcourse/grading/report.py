"""A `Result` in the forms people read: text for the terminal, HTML feedback, Gradescope's results.json, CSV.

Every message is already in the submission's language (see grader.py); the headings here are translated
the same way. Learner-written text (exception messages, cell sources) can reach a report, and a result
read back from a file or made by a custom grade function can hold anything, so every string is shown
through `shown`: cut to `MAX_SHOWN` characters, made encodable (a lone surrogate becomes "?") and kept on
one line; the HTML form escapes everything it shows, and Gradescope is told the output is plain text.
No form raises on any string.
"""

from __future__ import annotations

import csv
import html
import re
from pathlib import Path

from nfcourse.grading.grader import Result
from nfcourse.grading.sandbox import ISOLATION_KINDS
from nfcourse.grading.untrusted import plain_text
from nfcourse.i18n import LANGUAGES, _, using_language

# Control characters, and the Unicode ones that break or reorder a line (line separators, bidi controls).
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]")
MAX_SHOWN = 20_000  # characters of one string in a report


def one_line(message: str) -> str:
    """A message with control characters (newlines, terminal escapes) shown as escapes (\\n, \\x1b), so it
    stays one line and draws nothing but its own characters."""
    return CONTROL.sub(lambda match: match.group().encode("unicode_escape").decode("ascii"), message)


def shown(value: object) -> str:
    """Any value as report text: cut, encodable, one line (see the module docstring)."""
    return one_line(plain_text(value, MAX_SHOWN))


def count(value: object) -> object:
    """A number of points as it is, anything else (from a forged result, or too long to print) as text."""
    return value if isinstance(value, int | float) and -1e15 < value < 1e15 else shown(value)


def language(result: Result) -> str:
    """The result's language if it is one of the course's, else English."""
    return result.language if isinstance(result.language, str) and result.language in LANGUAGES else "en"


def missing_protections(result: Result) -> list[str]:
    """The names of the protections this host did not enforce."""
    return [shown(item.get("name")) for item in result.protections if isinstance(item, dict) and not item.get("active")]


def isolation_in_force(result: Result) -> str:
    """The isolation the learner's code ran under, in words of the current language ("" if not recorded)."""
    for item in result.protections:
        if isinstance(item, dict) and item.get("name") == "isolation" and isinstance(item.get("how"), str):
            kind = ISOLATION_KINDS.get(item["how"], "")
            return _(kind) if kind else ""  # looked up first: older babel extracts any string literal in _(...)
    return ""


def text(result: Result) -> str:
    """The report a learner or instructor reads in a terminal."""
    with using_language(language(result)):
        lines = [_("Grading {path}").format(path=shown(result.submission))]
        if result.problem:
            lines.append("  ✗ " + shown(result.problem))
        for task in result.tasks:
            lines.append(f"{shown(task.task)} {shown(task.title)}: {count(task.earned)}/{count(task.points)}")
            for part in task.parts:
                mark = "✓" if part.earned == part.points else "✗"
                score = f"({count(part.earned)}/{count(part.points)})"
                lines.append(f"  {mark} {shown(part.name)} {score}: {shown(part.message)}")
        lines += [_("Note: {note}").format(note=shown(note)) for note in result.notes]
        lines += [_("For the instructor: {flag}").format(flag=shown(flag)) for flag in result.flags]
        if missing := missing_protections(result):
            names = "; ".join(shown(_(name)) for name in missing)  # gettext gives its header for ""
            lines.append(_("Not enforced on this machine: {names}").format(names=names))
        if isolation := isolation_in_force(result):
            lines.append(_("Sandbox: {isolation}").format(isolation=isolation))
        lines.append(_("Total: {earned}/{points}").format(earned=count(result.earned), points=count(result.points)))
    return "\n".join(lines)


def html_report(result: Result) -> str:
    """The same report as a small HTML page, every string escaped."""

    def escape(value: object) -> str:
        return html.escape(shown(value))

    with using_language(language(result)):
        rows = []
        for task in result.tasks:
            score = f"{escape(task.earned)}/{escape(task.points)}"
            rows.append(f"<h2>{escape(task.task)} {escape(task.title)}: {score}</h2><ul>")
            for part in task.parts:
                mark = "✓" if part.earned == part.points else "✗"
                score = f"{escape(part.earned)}/{escape(part.points)}"
                rows.append(f"<li>{mark} {escape(part.name)} ({score}): {escape(part.message)}</li>")
            rows.append("</ul>")
        extra = [escape(result.problem)] if result.problem else []
        extra += [escape(_("Note: {note}").format(note=shown(note))) for note in result.notes]
        title = escape(_("Grading {path}").format(path=Path(shown(result.submission)).name))
        total = escape(_("Total: {earned}/{points}").format(earned=count(result.earned), points=count(result.points)))
    body = "\n".join([f"<h1>{title}</h1>", *(f"<p>{line}</p>" for line in extra), *rows, f"<p><b>{total}</b></p>"])
    return f'<!DOCTYPE html>\n<html lang="{language(result)}"><meta charset="utf-8">\n{body}\n</html>\n'


def gradescope(result: Result) -> dict:
    """Gradescope's results.json: one test per task, its parts as the output, plain text."""
    with using_language(language(result)):
        tests = []
        for task in result.tasks:
            lines = [f"{'✓' if p.earned == p.points else '✗'} {shown(p.name)}: {shown(p.message)}" for p in task.parts]
            tests.append(
                {
                    "name": f"{shown(task.task)} {shown(task.title)}",
                    "score": count(task.earned),
                    "max_score": count(task.points),
                    "output": "\n".join(lines),
                    "output_format": "text",
                    "visibility": "visible",
                }
            )
        general = [shown(result.problem)] if result.problem else []
        general += [_("Note: {note}").format(note=shown(note)) for note in result.notes]
    return {
        "score": count(result.earned),
        "output": "\n".join(general),
        "output_format": "text",
        "tests": tests,
        "visibility": "visible",
    }


CSV_FIELDS = ["submission", "lesson", "language", "earned", "points", "problem", "flags", "seconds", "digest"]


def write_csv(results: list[Result], path: Path) -> None:
    """One row per submission, one column per task's points, for a course's spreadsheet."""
    task_ids = sorted({shown(task.task) for result in results for task in result.tasks})
    with path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(CSV_FIELDS + task_ids)
        for result in sorted(results, key=lambda result: shown(result.submission)):
            earned = {shown(task.task): task.earned for task in result.tasks}
            row = [getattr(result, name) for name in CSV_FIELDS]
            row[CSV_FIELDS.index("flags")] = " | ".join(shown(flag) for flag in result.flags)
            writer.writerow([cell(value) for value in row] + [cell(earned.get(task, "")) for task in task_ids])


def cell(value: object) -> object:
    """A value as a spreadsheet cell: a number as it is, anything else as text from `shown`, and a text
    that a spreadsheet would run as a formula (=, +, -, @) with a leading apostrophe."""
    if isinstance(value, int | float):
        return count(value)
    text = shown(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text
