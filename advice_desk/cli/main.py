"""The ``advice-desk`` command line (PRODUCT.md §10): a contract that supervisors script.

Each command group lives in its own module (calls, figures, privacy) and registers its
sub-commands here; :mod:`advice_desk.cli.common` holds the exit codes and the one-line error.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence

from advice_desk import __version__
from advice_desk.cli import (
    audit_commands,
    backup_commands,
    call_commands,
    check_commands,
    figure_commands,
    privacy_commands,
    settings_commands,
    setup_commands,
)
from advice_desk.cli.common import (
    EXIT_FAILED,
    CommandError,
    Commands,
    Parser,
    failure_message,
    location_of,
    store_options,
)
from advice_desk.paths import Location


def build_parser() -> Parser:
    parser = Parser(
        prog="advice-desk", parents=[store_options(top_level=True)],
        description="Log, review and report the calls of a telephone advice line. "
                    "With no command, start the app.")
    parser.add_argument("--version", action="version", version=f"advice-desk {__version__}")
    parser.add_argument("--smoke", action="store_true",
                        help="check this installation: start the app on a copy of the store, "
                             "sign in, wait for the history and the call form, and close "
                             "(exit 0 when all worked)")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    common = [store_options(top_level=False)]
    for register in COMMANDS:
        register(commands, common)
    return parser


# Each entry adds one sub-command: register(subparsers, parents) sets ``func`` on its parser,
# a function (args) -> int that may raise CommandError.
COMMANDS: list[Callable[[Commands, list[Parser]], None]] = [
    call_commands.register_demo,
    call_commands.register_import,
    call_commands.register_hours,
    figure_commands.register_report,
    figure_commands.register_export,
    privacy_commands.register_retention,
    privacy_commands.register_subject_access,
    privacy_commands.register_erase,
    settings_commands.register_settings,
    backup_commands.register_backup,
    backup_commands.register_restore,
    audit_commands.register_audit,
    check_commands.register_check,
    setup_commands.register_setup,
    setup_commands.register_connect,
]


def main(argv: Sequence[str], start_gui: Callable[[Location], int] | None = None,
         smoke: Callable[[Location], int] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(list(argv))
    try:
        if args.command is not None:
            exit_code: int = args.func(args)
        elif args.smoke and smoke is not None:
            exit_code = smoke(location_of(args))
        elif start_gui is not None:
            exit_code = start_gui(location_of(args))
        else:
            parser.error("a command is required")
    except CommandError as exc:
        print(f"advice-desk: error: {exc}", file=sys.stderr)
        for line in exc.details:
            print(line, file=sys.stderr)
        return exc.exit_code
    except Exception as exc:  # disk full, read-only, damaged, locked, or a fault: one line
        print(f"advice-desk: error: {failure_message(exc, args)}", file=sys.stderr)
        return EXIT_FAILED
    return exit_code
