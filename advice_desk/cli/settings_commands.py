"""``advice-desk settings``: show the store's settings, or set one (PRODUCT.md §10)."""

from __future__ import annotations

import argparse

from advice_desk.cli.common import EXIT_OK, CommandError, Commands, Parser, opened_store


def register_settings(commands: Commands, parents: list[Parser]) -> None:
    parser = commands.add_parser(
        "settings", parents=parents, help="show the store's settings or set one",
        description="Show every setting with its value and default (the default action), or "
                    "set one: advice-desk settings set retention_months 24. A setting is "
                    "checked before it is stored, and the change is audited.")
    actions = parser.add_subparsers(dest="settings_action", metavar="ACTION")
    show = actions.add_parser("show", parents=parents, help="every setting, value and default")
    show.set_defaults(func=run_show)
    change = actions.add_parser("set", parents=parents, help="set KEY to VALUE")
    change.add_argument("key", metavar="KEY", help="e.g. retention_months")
    change.add_argument("value", metavar="VALUE")
    change.set_defaults(func=run_set)
    parser.set_defaults(func=run_show)


def run_show(args: argparse.Namespace) -> int:
    from advice_desk.clock import SystemClock
    from advice_desk.people.permissions import command_line_actor
    from advice_desk.settings import Settings

    with opened_store(args) as store:
        shown = Settings(store, command_line_actor(), SystemClock()).shown()
    width = max(len(s.key) for s in shown)
    for setting in shown:
        print(f"{setting.key:<{width}}  {setting.value}  (default {setting.default})")
    return EXIT_OK


def run_set(args: argparse.Namespace) -> int:
    from advice_desk.clock import SystemClock
    from advice_desk.people.permissions import command_line_actor
    from advice_desk.settings import Settings, editable

    try:
        setting = editable(args.key)
    except ValueError as error:  # names the key and lists the settings there are
        raise CommandError(str(error)) from None
    try:
        value = setting.parse(args.value)
    except ValueError as error:
        raise CommandError(f"{args.key}: {error}") from None
    with opened_store(args) as store:
        changed = Settings(store, command_line_actor(), SystemClock()).save({args.key: value})
    print(f"{args.key} set to {value}" if changed else f"{args.key} was already {value}")
    return EXIT_OK

