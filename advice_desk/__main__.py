"""``advice-desk``: with a command it runs the command line; with none it starts the app.

This is the one module that may reach both the headless core and the Qt GUI; the GUI is
imported only when it is started, so commands never load Qt.
"""

from __future__ import annotations

import gc
import importlib
import sys

from advice_desk.paths import Location, resolve_location

# The modules the main window needs before its first paint that do not need Qt, imported
# before PySide6: the first paint came 4-7 ms sooner, in the median of 25 interleaved runs,
# than when the GUI imports them (PRODUCT.md §11). The call's record and the opening hours
# wait for the paint.
BEFORE_QT = ("advice_desk.calls.history", "advice_desk.calls.limits",
             "advice_desk.reference.lists", "advice_desk.clock", "advice_desk.people.permissions",
             "advice_desk.store.errors", "advice_desk.store.failures", "advice_desk.validation",
             "getpass")


def _start_gui(location: Location) -> int:
    """The app. The cyclic garbage collector is off until the window has painted (the
    window turns it back on, :func:`advice_desk.gui.app.show_main_window`): what start-up
    allocates (modules, classes, Qt's enums) lives as long as the app, and collecting it
    cost ~9 ms before the first paint (PRODUCT.md §11)."""
    gc.disable()
    try:
        for name in BEFORE_QT:
            importlib.import_module(name)
        from advice_desk.gui.plain_import import python_import  # (Qt-free until entered)

        with python_import():
            from advice_desk.gui.app import run
        return run(location)
    finally:
        gc.enable()


def _smoke(location: Location) -> int:
    from advice_desk.gui.smoke import run_smoke

    return run_smoke(location)


def main(argv: list[str] | None = None) -> int:
    if getattr(sys, "frozen", False):  # the demo's generator process, in a frozen build
        import multiprocessing  # only then: 10 ms before the window's first paint

        multiprocessing.freeze_support()
    args = sys.argv[1:] if argv is None else argv
    store = _store_options_only(args)
    if store is not None:
        location = resolve_location(*store)
        if not location.url_has_password:  # (the command line says what is wrong with it)
            # started as an app is (a shortcut, `make run`): no command to parse, so the
            # command line's modules are not loaded before the window (~15 ms, PRODUCT.md §11)
            return _start_gui_alone(location)
    from advice_desk.cli.main import main as cli_main

    return cli_main(args, start_gui=_start_gui, smoke=_smoke)


STORE_OPTIONS = ("--data-dir", "--database-url")


def _store_options_only(args: list[str]) -> tuple[str | None, str | None] | None:
    """The folder and URL of a command line that holds nothing but the store's options (each
    at most once, as ``--option VALUE`` or ``--option=VALUE``); None for any other."""
    given: dict[str, str] = {}
    rest = list(args)
    while rest:
        name, equals, value = rest.pop(0).partition("=")
        if name not in STORE_OPTIONS or name in given:
            return None
        if not equals:
            if not rest or rest[0].startswith("-"):
                return None
            value = rest.pop(0)
        given[name] = value
    return given.get("--data-dir"), given.get("--database-url")


def _start_gui_alone(location: Location) -> int:
    """The app on ``location``, a failure to start told as the command line tells it."""
    try:
        return _start_gui(location)
    except Exception as exc:
        from advice_desk.cli.common import EXIT_FAILED, failure_message

        print(f"advice-desk: error: {failure_message(exc)}", file=sys.stderr)
        return EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
