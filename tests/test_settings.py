"""The store's settings: every editable one checked, saved all or none by a supervisor,
audited; and ``advice-desk settings [show | set KEY VALUE]`` on the command line."""

from __future__ import annotations

from datetime import timedelta

import pytest

from advice_desk.cli.common import EXIT_BAD_INPUT, EXIT_OK
from advice_desk.cli.main import main
from advice_desk.people import audit
from advice_desk.people.audit import AuditQuery, AuditTrail
from advice_desk.people.permissions import PermissionDenied, command_line_actor
from advice_desk.reference import lists as reference
from advice_desk.settings import EDITABLE, Settings
from advice_desk.validation import ValidationError
from tests.factories import opened_store

KEYS = ["helpline_name", "retention_months", "export_threshold", "export_k",
        "idle_lock_minutes", "backup_daily_copies", "backup_weekly_copies",
        "backup_monthly_copies"]


def test_every_setting_shows_its_value_and_default(store, clock, sam):
    shown = Settings(store, sam, clock).shown()
    assert [s.key for s in shown] == KEYS
    assert {s.key: (s.value, s.default) for s in shown} == {
        "helpline_name": (reference.helpline().name, reference.helpline().name),
        "retention_months": (12, 12), "export_threshold": (5, 5), "export_k": (5, 5),
        "idle_lock_minutes": (10, 10), "backup_daily_copies": (14, 14),
        "backup_weekly_copies": (8, 8), "backup_monthly_copies": (12, 12)}


def test_a_supervisor_saves_settings_and_the_change_is_audited(store, clock, sam):
    settings = Settings(store, sam, clock)
    changed = settings.save({"retention_months": 24, "idle_lock_minutes": 5,
                             "helpline_name": "  Kinship   Advice  ", "export_k": 5})
    assert changed == ["helpline_name", "idle_lock_minutes", "retention_months"]
    assert settings.retention_months() == 24
    assert settings.idle_lock_limit() == timedelta(minutes=5)
    assert settings.helpline_name() == "Kinship Advice"
    assert settings.save({"retention_months": 24}) == []  # nothing changed, nothing audited
    events = [e for e in AuditTrail(store, sam, clock).events(AuditQuery())
              if e.action == "settings-changed"]
    assert len(events) == 1
    assert events[0].subject == "settings"
    assert audit.describe(events[0]) == (
        "changed helpline name, idle lock minutes and retention months")


@pytest.mark.parametrize(("values", "field", "message"), [
    ({"retention_months": 0}, "retention_months",
     "the retention period must be from 1 to 240 months, not 0"),
    ({"idle_lock_minutes": "soon"}, "idle_lock_minutes",
     "the idle lock must be a whole number, not 'soon'"),
    ({"export_k": 1001}, "export_k", "k must be from 3 to 1000, not 1001"),
    ({"export_k": 1}, "export_k", "k must be from 3 to 1000, not 1"),
    ({"export_threshold": 2}, "export_threshold",
     "the disclosure threshold must be from 3 to 1000, not 2"),
    ({"helpline_name": "   "}, "helpline_name", "the helpline's name cannot be empty"),
    ({"colour": 3}, "colour", "there is no setting 'colour'; the settings are "
                              + ", ".join(KEYS)),
])
def test_a_bad_value_is_refused_and_nothing_is_saved(store, clock, sam, values, field,
                                                     message):
    settings = Settings(store, sam, clock)
    with pytest.raises(ValidationError) as refused:
        settings.save({"export_threshold": 7, **values})
    assert [(e.field, e.message) for e in refused.value.errors] == [(field, message)]
    assert settings.export_threshold() == 5  # all or none


def test_a_worker_cannot_change_settings(store, clock, amy):
    with pytest.raises(PermissionDenied):
        Settings(store, amy, clock).save({"retention_months": 6})
    assert Settings(store, amy, clock).retention_months() == 12


def test_every_editable_setting_has_a_working_default():
    for setting in EDITABLE:
        assert setting.accept(setting.default) == setting.default


# --- the command line ----------------------------------------------------------------------

def test_settings_show_lists_every_key_with_value_and_default(cli_location, location, capsys,
                                                             clock):
    assert main(["settings", "set", "retention_months", "36", *cli_location]) == EXIT_OK
    assert capsys.readouterr().out == "retention_months set to 36\n"
    for argv in (["settings", *cli_location], ["settings", "show", *cli_location]):
        assert main(argv) == EXIT_OK
        lines = capsys.readouterr().out.splitlines()
        assert [line.split()[0] for line in lines] == KEYS
        assert "retention_months       36  (default 12)" in lines
        assert f"helpline_name          {reference.helpline().name}  (default " \
               f"{reference.helpline().name})" in lines
    assert main(["settings", "set", "retention_months", "36", *cli_location]) == EXIT_OK
    assert capsys.readouterr().out == "retention_months was already 36\n"
    with opened_store(location) as store:
        events = [e for e in AuditTrail(store, command_line_actor(), clock).events(AuditQuery())
                  if e.action == "settings-changed"]
    assert len(events) == 1 and events[0].actor.startswith("command line")


@pytest.mark.parametrize(("argv", "message"), [
    (["set", "colour", "blue"], "there is no setting 'colour'; the settings are "
                                + ", ".join(KEYS)),
    (["set", "retention_months", "0"],
     "retention_months: the retention period must be from 1 to 240 months, not 0"),
    (["set", "export_k", "five"], "export_k: k must be a whole number, not 'five'"),
    (["set", "export_k", "1"], "export_k: k must be from 3 to 1000, not 1"),
    (["set", "export_threshold", "1"],
     "export_threshold: the disclosure threshold must be from 3 to 1000, not 1"),
    (["set", "helpline_name", " "], "helpline_name: the helpline's name cannot be empty"),
])
def test_a_bad_key_or_value_is_one_line_naming_the_key(cli_location, capsys, argv, message):
    assert main(["settings", *argv, *cli_location]) == EXIT_BAD_INPUT
    out, err = capsys.readouterr()
    assert (out, err) == ("", f"advice-desk: error: {message}\n")
    assert main(["settings", *cli_location]) == EXIT_OK
    assert "retention_months       12  (default 12)" in capsys.readouterr().out
