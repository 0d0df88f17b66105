"""The triggers that keep the audit trail append-only: which are missing, and putting them back."""

from __future__ import annotations

import sqlalchemy as sa

# The triggers that make the trail append-only (migrations 0002 and 0006 made them). Only the
# database's owner can drop them, and nothing the app does needs that: a guard missing, disabled
# or changed is a sign of tampering, reported by ``audit verify`` and ``check`` and put back only
# when a supervisor asks (``audit verify --repair``, which records it in the trail).
_REFUSE = "the audit trail cannot be changed"
SQLITE_GUARDS = {
    "audit_event_no_update": "CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event "
                             f"BEGIN SELECT RAISE(ABORT, '{_REFUSE}'); END",
    "audit_event_no_delete": "CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_event "
                             f"BEGIN SELECT RAISE(ABORT, '{_REFUSE}'); END",
    "audit_event_no_replace": "CREATE TRIGGER audit_event_no_replace BEFORE INSERT ON "
                              "audit_event WHEN EXISTS (SELECT 1 FROM audit_event WHERE id = "
                              f"NEW.id) BEGIN SELECT RAISE(ABORT, '{_REFUSE}'); END",
}
PG_REFUSE_BODY = f" BEGIN RAISE EXCEPTION '{_REFUSE}'; END "
PG_REFUSE_FUNCTION = ("CREATE OR REPLACE FUNCTION audit_event_refuse() RETURNS trigger "
                      f"LANGUAGE plpgsql AS $${PG_REFUSE_BODY}$$")
PG_GUARDS = {
    "audit_event_no_change": "CREATE TRIGGER audit_event_no_change BEFORE UPDATE OR DELETE ON "
                             "audit_event FOR EACH ROW EXECUTE FUNCTION audit_event_refuse()",
    "audit_event_no_truncate": "CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON "
                               "audit_event FOR EACH STATEMENT EXECUTE FUNCTION "
                               "audit_event_refuse()",
}


def _plain(sql: str) -> str:
    return " ".join(sql.split()).lower()


def missing_guards(connection: sa.Connection) -> list[str]:
    """The guards of the trail that are not as the app made them, by name (``… (disabled)``,
    ``… (changed)`` when present but not guarding); empty when all are in place."""
    found: list[str] = []
    if connection.dialect.name == "sqlite":
        there = {str(name): str(sql or "") for name, sql in connection.exec_driver_sql(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' "
            "AND tbl_name = 'audit_event'")}
        for name, sql in SQLITE_GUARDS.items():
            if name not in there:
                found.append(name)
            elif _plain(there[name]) != _plain(sql):
                found.append(f"{name} (changed)")
        return found
    rows = {str(name): (str(enabled), str(function), str(body or ""))
            for name, enabled, function, body in connection.exec_driver_sql(
                "SELECT t.tgname, t.tgenabled, p.proname, p.prosrc FROM pg_trigger t "
                "JOIN pg_proc p ON p.oid = t.tgfoid "
                "WHERE t.tgrelid = 'audit_event'::regclass AND NOT t.tgisinternal")}
    for name in PG_GUARDS:
        if name not in rows:
            found.append(name)
            continue
        enabled, function, body = rows[name]
        if enabled == "D":
            found.append(f"{name} (disabled)")
        elif function != "audit_event_refuse" or _plain(body) != _plain(PG_REFUSE_BODY):
            found.append(f"{name} (changed)")
    return found


def missing_guards_of(engine: sa.Engine) -> list[str]:
    """:func:`missing_guards` of a store not opened by the app (``check``); none is reported
    for a store of a schema before the chain (its opening upgrades it)."""
    with engine.connect() as connection:
        if not sa.inspect(connection).has_table("audit_chain"):
            return []
        return missing_guards(connection)


def put_back_guards(connection: sa.Connection) -> list[str]:
    """Make every guard that :func:`missing_guards` reports again as the app made it, in the
    caller's write transaction; returns what was put back."""
    missing = missing_guards(connection)
    sqlite = connection.dialect.name == "sqlite"
    if missing and not sqlite:
        connection.exec_driver_sql(PG_REFUSE_FUNCTION)
    for entry in missing:
        name = entry.split(" ")[0]
        if sqlite:
            connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name}")
            connection.exec_driver_sql(SQLITE_GUARDS[name])
        else:
            connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name} ON audit_event")
            connection.exec_driver_sql(PG_GUARDS[name])
    return missing
