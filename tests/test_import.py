"""Importing a spreadsheet: codes or labels in any case, every problem listed, all rows or none."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlmodel import func, select

from advice_desk.calls.importer import ImportRejected, import_calls, read_text
from advice_desk.calls.service import Calls
from advice_desk.clock import FixedClock
from advice_desk.store.engine import Store
from advice_desk.store.models import Call, Topic, User
from tests.support import ANY_TIME, SUPERVISOR

HEADER = ("started_at,duration_minutes,caller_type,arrangement,local_authority,topics,outcomes,"
          "consent,caller_name,caller_phone,caller_email,caller_postcode,notes,follow_up_on,"
          "safeguarding,channel,direction,children_age_bands")


def _csv(*rows: str, header: str = HEADER) -> str:
    return "\n".join([header, *rows]) + "\n"


def _call_count(store: Store) -> int:
    with store.read() as session:
        return session.exec(select(func.count()).select_from(Call)).one()


def _problems(store: Store, text: str, clock: FixedClock) -> list[str]:
    with pytest.raises(ImportRejected) as rejected:
        import_calls(store, text, clock)
    return [str(p) for p in rejected.value.problems]


GOOD = _csv(
    # codes and labels in mixed case, an authority by name, UK winter time, a referral by label
    "2026-03-02 10:15,12.5,Grandparent,SGO,leeds,financial.ALLOWANCES;virtual school,"
    "advice;Referred: Virtual School;referred:solicitor,YES,Margaret Smith,07700 900123,"
    "m.smith@example.org,LS6 2AB,Asked about the allowance,2026-03-09,no,Phone,inbound,"
    "5-10;11–15",
    # an authority by GSS code, ISO 8601 with an offset, summer time, consent no
    "2026-06-01T11:00+01:00,7,aunt-uncle,Kinship foster care (looked after),e08000035,"
    "Legal matters,INFORMATION,no,,,,,,,Yes,voicemail callback,Outbound callback,",
)


def test_codes_and_labels_in_any_case_are_imported(store: Store, clock: FixedClock) -> None:
    assert import_calls(store, GOOD, clock) == 2
    first, second = (Calls(store, SUPERVISOR, ANY_TIME).get(n) for n in (1, 2))
    d = first.details
    assert d.started_at == datetime(2026, 3, 2, 10, 15, tzinfo=UTC)
    assert (d.ended_at - d.started_at).total_seconds() == 12.5 * 60
    assert (d.caller_type, d.arrangement, d.local_authority) == ("grandparent", "sgo",
                                                                  "E08000035")
    assert d.topics == ("financial.allowances", "education.virtual-school")
    assert d.outcomes == ("advice", "referred")
    assert sorted(d.referred_to) == ["solicitor", "virtual-school"]
    assert (d.caller_name, d.caller_phone, d.caller_postcode) == (
        "Margaret Smith", "07700 900123", "LS6 2AB")
    assert (d.follow_up_on, d.safeguarding, d.children_age_bands, d.children_count) == (
        date(2026, 3, 9), False, ("5-10", "11-15"), 2)
    assert first.in_hours is True
    e = second.details
    assert e.started_at == datetime(2026, 6, 1, 10, 0, tzinfo=UTC)
    assert (e.local_authority, e.arrangement, e.topics, e.outcomes) == (
        "E08000035", "kinship-foster", ("legal",), ("information",))
    assert (e.consent_to_store_details, e.safeguarding, e.channel, e.direction) == (
        False, True, "voicemail-callback", "outbound-callback")
    with store.read() as session:
        owner = session.get(User, first.worker_id)
    assert owner is not None and owner.username == "imported"


def test_a_file_from_excel_with_a_byte_order_mark_is_read(tmp_path: Path, store: Store,
                                                          clock: FixedClock) -> None:
    path = tmp_path / "log.csv"
    path.write_bytes(b"\xef\xbb\xbf" + GOOD.encode("utf-8"))
    assert import_calls(store, read_text(path), clock) == 2


def test_any_bad_row_imports_nothing_and_every_problem_is_listed(store: Store,
                                                                 clock: FixedClock) -> None:
    text = _csv(
        "2026-03-02 10:15,12,grandparent,sgo,Leeds,financial,advice,,,,,,,,,,,",
        "2026-03-02 11:00,twelve,granny,sgo,Narnia,financial;nonsense,advice;referred,,,,,,,,"
        "maybe,,,",
        "02/03/2026 11:30,5,grandparent,,,,,,,,,,,,,,,0-4;7-9",
        "2026-03-02 12:00,5,grandparent,sgo,,legal,advice,no,Ann,07700 900001,,,,,,,,",
        "2026-03-03 10:00,5,grandparent,sgo,,legal,information,,,,not-an-email,,,2026-3-9,"
        ",,,",
    )
    assert _problems(store, text, clock) == [
        "row 3, column duration_minutes: 'twelve' is not a number of minutes",
        "row 3, column local_authority: no local authority is named or coded 'Narnia'",
        "row 3, column safeguarding: 'maybe': write yes or no",
        "row 3, column caller_type: unknown code 'granny'",
        "row 3, column topics: unknown topic 'nonsense'",
        "row 3, column outcomes: say who the caller was referred to",
        "row 4, column started_at: '02/03/2026 11:30' is not a date and time: write "
        "YYYY-MM-DD HH:MM (UK time) or ISO 8601 with an offset",
        "row 4, column arrangement: required",
        "row 4, column children_age_bands: unknown age band '7-9'",
        "row 4, column topics: choose at least one topic",
        "row 4, column outcomes: choose at least one outcome",
        "row 5, column caller_name: must be empty when consent is no (the caller did not "
        "agree to their details being kept)",
        "row 5, column caller_phone: must be empty when consent is no (the caller did not "
        "agree to their details being kept)",
        "row 6, column follow_up_on: '2026-3-9' is not a date: write YYYY-MM-DD",
        "row 6, column caller_email: is not an email address",
    ]
    assert _call_count(store) == 0
    with store.read() as session:
        assert session.exec(select(User).where(User.username == "imported")).first() is None


def test_a_uk_time_that_did_not_happen_or_happened_twice_is_refused(store: Store,
                                                                    clock: FixedClock) -> None:
    text = _csv("2026-03-29 01:30,5,grandparent,sgo,,legal,advice",
                "2026-10-25 01:30,5,grandparent,sgo,,legal,advice",
                "2026-10-25T01:30+00:00,5,grandparent,sgo,,legal,advice",
                header="started_at,duration_minutes,caller_type,arrangement,local_authority,"
                       "topics,outcomes")
    assert _problems(store, text, clock) == [
        "row 2, column started_at: 2026-03-29 01:30 did not happen in the UK: the clocks "
        "went forward an hour that night",
        "row 3, column started_at: 2026-10-25 01:30 happened twice in the UK (the clocks went "
        "back that night): add the offset, 2026-10-25T01:30+01:00 for the first or "
        "2026-10-25T01:30+00:00 for the second",
    ]


def test_an_explicit_offset_settles_the_autumn_hour(store: Store, clock: FixedClock) -> None:
    header = "started_at,caller_type,arrangement,topics,outcomes"
    import_calls(store, _csv("2026-10-25T01:30+01:00,grandparent,sgo,legal,advice",
                             "2026-10-25T01:30+00:00,grandparent,sgo,legal,advice",
                             header=header), clock)
    starts = [Calls(store, SUPERVISOR, ANY_TIME).get(n).details.started_at for n in (1, 2)]
    assert starts == [datetime(2026, 10, 25, 0, 30, tzinfo=UTC),
                      datetime(2026, 10, 25, 1, 30, tzinfo=UTC)]


def test_unknown_repeated_and_missing_columns_are_errors(store: Store,
                                                         clock: FixedClock) -> None:
    text = _csv("2026-03-02 10:15,grandparent,sgo,x,legal", header="started_at,caller_type,"
                "arrangement,colour,topics,Caller_Type")
    problems = _problems(store, text, clock)
    assert problems[0].startswith("row 1, column colour: unknown column; the columns are "
                                  "started_at, duration_minutes,")
    assert problems[1:] == ["row 1, column caller_type: appears twice",
                            "row 1, column outcomes: is required but missing"]


def test_blank_rows_and_an_empty_unnamed_column_are_fine_but_a_stray_value_is_not(
        store: Store, clock: FixedClock) -> None:
    header = "started_at,caller_type,arrangement,topics,outcomes,"
    good = _csv("2026-03-02 10:15,grandparent,sgo,legal,advice,", ",,,,,", "", header=header)
    assert import_calls(store, good, clock) == 1
    stray = _csv("2026-03-02 10:15,grandparent,sgo,legal,advice,oops,more", header=header)
    assert _problems(store, stray, clock) == [
        "row 2, column F: a value in a column with no name",
        "row 2, column G: a value in a column with no name"]


def test_rows_are_numbered_as_the_spreadsheet_shows_them(store: Store,
                                                         clock: FixedClock) -> None:
    header = "started_at,caller_type,arrangement,topics,outcomes,notes"
    text = _csv('2026-03-02 10:15,grandparent,sgo,legal,advice,"two\nlines"',
                "2026-03-02 10:30,grandparent,sgo,legal,,", header=header)
    assert _problems(store, text, clock) == ["row 3, column outcomes: choose at least one outcome"]


def test_a_label_shared_by_two_topics_must_be_written_as_a_code(store: Store,
                                                                clock: FixedClock) -> None:
    with store.write() as session:
        session.add(Topic(code="practical.debt", parent_code="practical", label="Debt",
                          position=9))
    header = "started_at,caller_type,arrangement,topics,outcomes"
    assert _problems(store, _csv("2026-03-02 10:15,grandparent,sgo,debt,advice",
                                 header=header), clock) == [
        "row 2, column topics: 'debt' is the label of several topics (financial.debt, "
        "practical.debt): write the code instead"]
    assert import_calls(store, _csv("2026-03-02 10:15,grandparent,sgo,Practical.Debt,advice",
                                    header=header), clock) == 1
    assert Calls(store, SUPERVISOR, ANY_TIME).get(1).details.topics == ("practical.debt",)


def test_calls_belong_to_the_named_worker_who_must_exist(store: Store, clock: FixedClock,
                                                         worker: User) -> None:
    text = _csv("2026-03-02 10:15,grandparent,sgo,legal,advice",
                header="started_at,caller_type,arrangement,topics,outcomes")
    assert import_calls(store, text, clock, worker="amy") == 1
    assert Calls(store, SUPERVISOR, ANY_TIME).get(1).worker_id == worker.id
    with pytest.raises(ImportRejected, match="there is no user 'amie'"):
        import_calls(store, text, clock, worker="amie")
    assert _call_count(store) == 1


def test_a_file_that_is_missing_or_not_utf8_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ImportRejected, match="cannot read it: No such file or directory"):
        read_text(tmp_path / "missing.csv")
    latin1 = tmp_path / "latin1.csv"
    latin1.write_bytes("caller_name\nZoë\n".encode("latin-1"))
    with pytest.raises(ImportRejected, match="is not UTF-8 text"):
        read_text(latin1)


def test_a_file_that_is_empty_or_not_csv_is_refused(store: Store, clock: FixedClock) -> None:
    with pytest.raises(ImportRejected, match="is empty: the first row must name the columns"):
        import_calls(store, "", clock)
    with pytest.raises(ImportRejected, match="cannot be read as CSV: field larger than"):
        import_calls(store, HEADER + "\n" + "x" * 200_000 + "\n", clock)


def test_a_phone_number_in_the_duration_column_is_a_row_error(store: Store,
                                                               clock: FixedClock) -> None:
    text = ("started_at,duration_minutes,caller_type,arrangement,topics,outcomes\n"
            "2026-11-20 10:00,07700900123,grandparent,sgo,financial,advice\n")
    with pytest.raises(ImportRejected) as rejected:
        import_calls(store, text, clock)
    assert [str(p) for p in rejected.value.problems] == [
        "row 2, column duration_minutes: '07700900123' minutes is longer than any call "
        "(at most 720)"]
