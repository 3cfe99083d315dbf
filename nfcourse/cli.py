"""The `nfcourse` command (also `python -m nfcourse`): grading for learners and instructors.

nfcourse grade SHEET.ipynb                        grade one sheet, report in its language
nfcourse grade SUBMISSIONS/ --csv grades.csv     grade a folder in parallel into SUBMISSIONS-grades/
nfcourse nbgrader COURSE ASSIGNMENT --lesson L   grade an nbgrader course's submissions into its gradebook
nfcourse gradescope LESSON --out bundle.zip      write a Gradescope autograder bundle
nfcourse protections                             what the sandbox can enforce on this machine
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from nfcourse.grading.sandbox import Limits, protections
from nfcourse.grading.sheets import lessons


def parser() -> argparse.ArgumentParser:
    main = argparse.ArgumentParser(prog="nfcourse", description="Grading the nfcourse exercise sheets.")
    commands = main.add_subparsers(dest="command", required=True)
    grade = commands.add_parser("grade", help="grade a notebook, or every notebook in a folder")
    grade.add_argument("path", type=Path)
    grade.add_argument("--lesson", choices=lessons(), help="grade as this sheet, whatever the notebook says")
    grade.add_argument("--language", choices=("en", "de", "ja"), help="language of the report")
    grade.add_argument("--out", type=Path, help="folder for the results (default: PATH-grades/)")
    grade.add_argument("--csv", type=Path, help="also write one row per submission to this CSV file")
    grade.add_argument("--json", type=Path, help="single notebook: also write the result as JSON")
    grade.add_argument("--html", type=Path, help="single notebook: also write the report as HTML")
    grade.add_argument("--jobs", type=int, help="notebooks graded at once (default: the number of CPUs)")
    grade.add_argument("--force", action="store_true", help="grade again what was already graded")
    grade.add_argument("--task-seconds", type=float, default=Limits.task_seconds, help="time limit per task call")
    grade.add_argument("--cell-seconds", type=float, default=Limits.cell_seconds, help="time limit per cell")
    grade.add_argument("--notebook-seconds", type=float, default=Limits.notebook_seconds, help="time limit in all")
    nbgrader = commands.add_parser("nbgrader", help="grade an nbgrader course's submissions into its gradebook")
    nbgrader.add_argument("course", type=Path, help="the course directory (with submitted/ and gradebook.db)")
    nbgrader.add_argument("assignment", help="the assignment's name, e.g. 00_recap-de")
    nbgrader.add_argument("--lesson", choices=lessons(), required=True)
    nbgrader.add_argument("--csv", type=Path, help="also write the grades to this CSV file")
    bundle = commands.add_parser("gradescope", help="write a Gradescope autograder bundle for a sheet")
    bundle.add_argument("lesson", choices=lessons())
    bundle.add_argument("--out", type=Path, default=Path("autograder.zip"))
    run = commands.add_parser("gradescope-run", help="(used inside Gradescope by run_autograder)")
    run.add_argument("root", type=Path)
    run.add_argument("--lesson", choices=lessons(), required=True)
    commands.add_parser("protections", help="what the sandbox enforces on this machine")
    return main


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.command == "protections":
        for protection in protections():
            print(f"{'✓' if protection.active else '✗'} {protection.name}: {protection.how}")
        return 0
    if args.command == "gradescope":
        from nfcourse.grading.gradescope import write_bundle

        print(f"wrote {write_bundle(args.lesson, args.out)}")
        return 0
    if args.command == "gradescope-run":
        from nfcourse.grading.gradescope import run

        run(args.root, args.lesson)
        return 0
    if args.command == "nbgrader":
        from nfcourse.grading.gradebook import import_scores
        from nfcourse.grading.report import write_csv

        results = import_scores(args.course, args.assignment, args.lesson)
        if args.csv:
            write_csv(results, args.csv)
        print(f"{len(results)} submissions graded into {args.course / 'gradebook.db'}")
        return 0
    return grade_command(args)


def grade_command(args: argparse.Namespace) -> int:
    from nfcourse.grading.batch import grade_folder, save
    from nfcourse.grading.grader import grade
    from nfcourse.grading.report import html_report, text, write_csv

    limits = Limits(
        cell_seconds=args.cell_seconds, task_seconds=args.task_seconds, notebook_seconds=args.notebook_seconds
    )
    options = {"lesson": args.lesson, "language": args.language, "limits": limits}
    if not args.path.exists():
        print(f"nfcourse grade: {args.path} does not exist", file=sys.stderr)
        return 2
    if args.path.is_dir():
        out = args.out or args.path.with_name(args.path.name + "-grades")
        results = grade_folder(args.path, out, jobs=args.jobs, force=args.force, **options)
        if args.csv:
            write_csv(results, args.csv)
        print(f"{len(results)} notebooks graded into {out}" + (f", table in {args.csv}" if args.csv else ""))
        return 0
    result = grade(args.path, **options)
    print(text(result))
    if args.json:
        save(result, args.json)
    if args.html:
        args.html.write_text(html_report(result), encoding="utf-8")
    if args.csv:
        write_csv([result], args.csv)
    return 0
