"""A `Result` in the forms people read: text for the terminal, HTML feedback, Gradescope's results.json, CSV.

Every message is already in the submission's language (see grader.py); the headings here are translated
the same way. Learner-written text (exception messages, cell sources) can reach a report, so the HTML form
escapes everything it shows and Gradescope is told the output is plain text.
"""

from __future__ import annotations

import csv
import html
import re
from pathlib import Path

from nfcourse.grading.grader import Result
from nfcourse.i18n import _, using_language

CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def one_line(message: str) -> str:
    """A message with control characters (newlines, terminal escapes) shown as \\xNN, so it stays one line."""
    return CONTROL.sub(lambda match: f"\\x{ord(match.group()):02x}", message)


def text(result: Result) -> str:
    """The report a learner or instructor reads in a terminal."""
    with using_language(result.language):
        lines = [_("Grading {path}").format(path=result.submission)]
        if result.problem:
            lines.append("  ✗ " + one_line(result.problem))
        for task in result.tasks:
            lines.append(f"{task.task} {task.title}: {task.earned}/{task.points}")
            for part in task.parts:
                mark = "✓" if part.earned == part.points else "✗"
                lines.append(f"  {mark} {part.name} ({part.earned}/{part.points}): {one_line(part.message)}")
        lines += [_("Note: {note}").format(note=one_line(note)) for note in result.notes]
        lines += [_("For the instructor: {flag}").format(flag=flag) for flag in result.flags]
        missing = [protection["name"] for protection in result.protections if not protection["active"]]
        if missing:
            lines.append(
                _("Not enforced on this machine: {names}").format(names="; ".join(_(name) for name in missing))
            )
        lines.append(_("Total: {earned}/{points}").format(earned=result.earned, points=result.points))
    return "\n".join(lines)


def html_report(result: Result) -> str:
    """The same report as a small HTML page, every learner-influenced string escaped."""
    escape = html.escape
    with using_language(result.language):
        rows = []
        for task in result.tasks:
            rows.append(f"<h2>{escape(task.task)} {escape(task.title)}: {task.earned}/{task.points}</h2><ul>")
            for part in task.parts:
                mark = "✓" if part.earned == part.points else "✗"
                rows.append(
                    f"<li>{mark} {escape(part.name)} ({part.earned}/{part.points}): {escape(part.message)}</li>"
                )
            rows.append("</ul>")
        extra = [escape(result.problem)] if result.problem else []
        extra += [escape(_("Note: {note}").format(note=note)) for note in result.notes]
        title = escape(_("Grading {path}").format(path=Path(result.submission).name))
        total = escape(_("Total: {earned}/{points}").format(earned=result.earned, points=result.points))
    body = "\n".join([f"<h1>{title}</h1>", *(f"<p>{line}</p>" for line in extra), *rows, f"<p><b>{total}</b></p>"])
    return f'<!DOCTYPE html>\n<html lang="{escape(result.language)}"><meta charset="utf-8">\n{body}\n</html>\n'


def gradescope(result: Result) -> dict:
    """Gradescope's results.json: one test per task, its parts as the output, plain text."""
    with using_language(result.language):
        tests = []
        for task in result.tasks:
            lines = [f"{'✓' if p.earned == p.points else '✗'} {p.name}: {one_line(p.message)}" for p in task.parts]
            tests.append(
                {
                    "name": f"{task.task} {task.title}",
                    "score": task.earned,
                    "max_score": task.points,
                    "output": "\n".join(lines),
                    "output_format": "text",
                    "visibility": "visible",
                }
            )
        general = [one_line(result.problem)] if result.problem else []
        general += [_("Note: {note}").format(note=one_line(note)) for note in result.notes]
    return {
        "score": result.earned,
        "output": "\n".join(general),
        "output_format": "text",
        "tests": tests,
        "visibility": "visible",
    }


CSV_FIELDS = ["submission", "lesson", "language", "earned", "points", "problem", "flags", "seconds", "digest"]


def write_csv(results: list[Result], path: Path) -> None:
    """One row per submission, one column per task's points, for a course's spreadsheet."""
    task_ids = sorted({task.task for result in results for task in result.tasks})
    with path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(CSV_FIELDS + task_ids)
        for result in sorted(results, key=lambda result: result.submission):
            earned = {task.task: task.earned for task in result.tasks}
            row = [getattr(result, name) for name in CSV_FIELDS]
            row[CSV_FIELDS.index("flags")] = " | ".join(result.flags)
            writer.writerow([spreadsheet_safe(value) for value in row] + [earned.get(task, "") for task in task_ids])


def spreadsheet_safe(value: object) -> object:
    """A text that a spreadsheet would run as a formula (=, +, -, @) gets a leading apostrophe."""
    return "'" + value if isinstance(value, str) and value[:1] in ("=", "+", "-", "@") else value
