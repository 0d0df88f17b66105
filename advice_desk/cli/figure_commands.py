"""Commands that turn the calls into figures: report (text, JSON, CSV, PDF) and export."""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path

from advice_desk.cli.common import (
    EXIT_OK,
    CommandError,
    Commands,
    Parser,
    opened_store,
    uk_day,
    writing,
)
from advice_desk.files import atomic_file

REPORT_FORMATS = ("text", "json", "csv", "pdf")


def register_report(commands: Commands,
                    parents: list[Parser]) -> None:
    parser = commands.add_parser(
        "report", parents=parents, help="the supervisor's report for a day or a range",
        description="Every figure of the daily report for one UK day (--date) or a range "
                    "(--from and --to, both included), as text, JSON, CSV or PDF.")
    parser.add_argument("--date", type=uk_day, metavar="D", help="one day, YYYY-MM-DD")
    parser.add_argument("--from", dest="date_from", type=uk_day, metavar="D",
                        help="first day of a range")
    parser.add_argument("--to", dest="date_to", type=uk_day, metavar="D",
                        help="last day of a range")
    parser.add_argument("--format", choices=REPORT_FORMATS, default="text")
    parser.add_argument("--out", type=Path, metavar="FILE",
                        help="write to FILE (written whole or not at all) instead of stdout")
    parser.set_defaults(func=run_report)


def _period(args: argparse.Namespace) -> tuple[date, date]:
    if args.date and (args.date_from or args.date_to):
        raise CommandError("give either --date or --from and --to, not both")
    if args.date:
        return args.date, args.date
    if not (args.date_from and args.date_to):
        raise CommandError("give --date D, or --from D and --to D")
    if args.date_to < args.date_from:
        raise CommandError(f"--to {args.date_to} is before --from {args.date_from}")
    return args.date_from, args.date_to


def run_report(args: argparse.Namespace) -> int:
    date_from, date_to = _period(args)
    if args.format == "pdf" and args.out is None:
        raise CommandError("--format pdf needs --out FILE")
    from advice_desk.clock import SystemClock
    from advice_desk.people.permissions import command_line_actor
    from advice_desk.reports import output as report_output
    from advice_desk.reports.compute import Reports

    with opened_store(args, reading=True) as store:
        reports = Reports(store, command_line_actor(), SystemClock())
        report, labels = reports.for_period(date_from, date_to)
    name = report_output.labeller(labels)
    with writing(args.out):
        if args.format == "pdf":
            reports.save_pdf(report, labels, args.out)
            return EXIT_OK
        text = {"text": lambda: report_output.as_text(report, name),
                "json": lambda: report_output.as_json(report),
                "csv": lambda: report_output.as_csv(report)}[args.format]()
        if args.out is None:
            sys.stdout.write(text)
        else:
            with atomic_file(args.out) as f:
                f.write(text)
    return EXIT_OK


def register_export(commands: Commands,
                    parents: list[Parser]) -> None:
    parser = commands.add_parser(
        "export", parents=parents, help="anonymised funder export",
        description="Write summary.csv (counts per month and in total, with disclosure "
                    "control) and data-dictionary.md into DIR; with --rows also calls.csv, one "
                    "k-anonymous row per call. All files are written, or none.")
    parser.add_argument("--from", dest="date_from", type=uk_day, required=True, metavar="D")
    parser.add_argument("--to", dest="date_to", type=uk_day, required=True, metavar="D")
    parser.add_argument("--out", type=Path, required=True, metavar="DIR",
                        help="the folder for the files (made if it does not exist)")
    parser.add_argument("--rows", action="store_true", help="add the row-level extract")
    parser.add_argument("--fresh-key", action="store_true",
                        help="hash repeat callers with a key made for this export alone")
    parser.set_defaults(func=run_export)


def run_export(args: argparse.Namespace) -> int:
    if args.date_to < args.date_from:
        raise CommandError(f"--to {args.date_to} is before --from {args.date_from}")
    if args.out.exists() and not args.out.is_dir():
        raise CommandError(f"--out {args.out} is not a folder")
    from advice_desk.clock import SystemClock
    from advice_desk.people.permissions import command_line_actor
    from advice_desk.reports.funder_export import FunderExport

    with opened_store(args) as store:
        export = FunderExport(store, command_line_actor(), SystemClock())
        with writing(args.out):  # the export key too: a config folder may not be writable
            choices = export.choices(args.rows, args.fresh_key)
            result = export.write(args.date_from, args.date_to, args.out, choices)
    print(f"Wrote {', '.join(p.name for p in result.files)} to {args.out}")
    return EXIT_OK


