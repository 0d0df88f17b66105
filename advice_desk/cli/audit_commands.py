"""``advice-desk audit verify``: prove the audit trail is whole (PRODUCT.md §10)."""

from __future__ import annotations

import argparse
import sys

from advice_desk.cli.common import (
    EXIT_FAILED,
    EXIT_OK,
    CommandError,
    Commands,
    Parser,
    opened_store,
)


def register_audit(commands: Commands, parents: list[Parser]) -> None:
    parser = commands.add_parser(
        "audit", parents=parents, help="check the audit trail",
        description="Check the audit trail: advice-desk audit verify walks every event, checks "
                    "its link (an HMAC made with the audit key kept outside the store) and "
                    "compares the newest with what this PC saw committed, and that the "
                    "triggers guarding the trail are in place. Exit 0 when the trail is whole; "
                    "1 with the first broken link (changed, removed, added or a truncated "
                    "tail) or the guards that are missing.")
    actions = parser.add_subparsers(dest="audit_action", metavar="ACTION", required=True)
    verify = actions.add_parser("verify", parents=parents,
                                help="check every event of the trail")
    verify.add_argument("--repair", action="store_true",
                        help="put back the guards (triggers) of the trail that are missing; "
                             "recorded in the trail")
    verify.set_defaults(func=run_verify)
    new_key = actions.add_parser(
        "new-key", parents=parents, help="after the audit key was lost: chain on with a new one",
        description="Only when the audit key file is lost: make a new key and go on chaining "
                    "the trail with it from an event that says so. The events before can then "
                    "be checked only with the lost key, should it be found.")
    new_key.set_defaults(func=run_new_key)


def run_verify(args: argparse.Namespace) -> int:
    from advice_desk.clock import SystemClock
    from advice_desk.people.audit import AuditTrail
    from advice_desk.people.permissions import command_line_actor
    from advice_desk.store.engine import StoreError

    # Verifying only reads (a read-only store too); putting the guards back writes.
    with opened_store(args, reading=not args.repair) as store:
        trail = AuditTrail(store, command_line_actor(), SystemClock())
        try:
            missing = trail.missing_guards()
            if missing and args.repair:
                put_back = trail.put_back_guards()
                print(f"advice-desk: put back the audit trail's guards {', '.join(put_back)} "
                      "(recorded in the trail); they had been removed or changed outside "
                      "Advice Desk: tell whoever looks after the store", file=sys.stderr)
                missing = []
            verdict = trail.verify()
        except StoreError as error:  # no key, a loose key or anchor, another store's key
            raise CommandError(str(error), EXIT_FAILED) from error
    guards = ", ".join(missing)
    if missing and verdict.ok:
        raise CommandError(
            f"the audit trail's guards {guards} are missing: they were removed or changed "
            "outside Advice Desk, which is itself a sign of tampering (every event still "
            "there is whole); keep the store as it is, tell whoever looks after it, and put "
            "them back with 'advice-desk audit verify --repair'", EXIT_FAILED)
    if not verdict.ok:
        where = (f"event #{verdict.event_id}" if verdict.at is None else
                 f"event #{verdict.event_id} of {verdict.at.isoformat(timespec='seconds')}")
        whole = ("no event before it is whole" if verdict.count == 0 else
                 "the first event is whole" if verdict.count == 1 else
                 f"the first {verdict.count} events are whole")
        if verdict.problem == "truncated":
            where, whole = "its end", "every event still there is whole"
        also = f"; its guards {guards} are missing too" if missing else ""
        raise CommandError(
            f"the audit trail is broken at {where}: {verdict.problem}: {verdict.explanation} "
            f"({whole}){also}; keep the store as it is and tell whoever looks after it",
            EXIT_FAILED)
    if verdict.anchored is None and verdict.count:
        seen = ("; this PC has no anchor of this store (what it saw committed), so whether "
                "newest events were cut from the tail could not be checked")
    elif verdict.anchored is None:
        seen = ""
    elif verdict.restored_at is not None:
        seen = (f"; this PC's anchor was of the trail the restore of "
                f"{verdict.restored_at.isoformat(timespec='seconds')} replaced: checked from "
                "that restore on")
    else:
        seen = f"; this PC saw {_events(verdict.anchored)} committed, all there"
    checked = "every link checked"
    if verdict.key_replaced_at is not None:
        checked = (f"every link checked since the audit key was replaced on "
                   f"{verdict.key_replaced_at.isoformat(timespec='seconds')}; the "
                   f"{_events(verdict.unchecked)} before can be checked only with the lost key")
    print(f"audit trail ok: {_events(verdict.count)}, {checked}{seen}")
    return EXIT_OK


def run_new_key(args: argparse.Namespace) -> int:
    from advice_desk.clock import SystemClock
    from advice_desk.people.audit import AuditTrail
    from advice_desk.people.permissions import command_line_actor
    from advice_desk.store.audit_key import key_path
    from advice_desk.store.engine import StoreError

    with opened_store(args) as store:
        try:
            position = AuditTrail(store, command_line_actor(), SystemClock()).replace_lost_key()
        except StoreError as error:
            raise CommandError(str(error), EXIT_FAILED) from error
    print(f"a new audit key is at {key_path()} (keep it safe with your backups); the trail is "
          f"chained with it from event {position} on")
    return EXIT_OK


def _events(count: int) -> str:
    return "1 event" if count == 1 else f"{count} events"
