"""Importing a spreadsheet: codes or labels in any case, every problem listed, all rows or none."""

from __future__ import annotations

import sqlite3
import time
import tracemalloc
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import func, select

from advice_desk.calls import import_check, import_source
from advice_desk.calls.history import CallQuery
from advice_desk.calls.import_source import ImportRejected, read_text
from advice_desk.calls.importer import ImportWatch, import_calls, import_file
from advice_desk.calls.service import Calls
from advice_desk.clock import FixedClock
from advice_desk.paths import Location
from advice_desk.people.accounts import actor_of, get_or_create_user
from advice_desk.store.engine import Store
from advice_desk.store.engines import WRITE_LOCK_KEY
from advice_desk.store.models import AuditEvent, Call, Topic, User
from tests.factories import a_call, opened_store
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


def test_a_file_that_is_empty_is_refused(tmp_path: Path, store: Store,
                                         clock: FixedClock) -> None:
    for content in (b"", b"\xef\xbb\xbf", b"\n\n"):
        path = tmp_path / "empty.csv"
        path.write_bytes(content)
        with pytest.raises(ImportRejected, match=r"^is empty: the first row must name the "
                                                 r"columns$"):
            import_file(store, path, clock)
    assert _call_count(store) == 0


def test_a_phone_number_in_the_duration_column_is_a_row_error(store: Store,
                                                               clock: FixedClock) -> None:
    text = ("started_at,duration_minutes,caller_type,arrangement,topics,outcomes\n"
            "2026-11-20 10:00,07700900123,grandparent,sgo,financial,advice\n")
    with pytest.raises(ImportRejected) as rejected:
        import_calls(store, text, clock)
    assert [str(p) for p in rejected.value.problems] == [
        "row 2, column duration_minutes: '07700900123' minutes is longer than any call "
        "(at most 720)"]


# --- strict CSV ------------------------------------------------------------------------------

SHORT = "started_at,caller_type,arrangement,topics,outcomes,notes,caller_name"


def _short(*rows: str) -> str:
    return _csv(*rows, header=SHORT)


def test_an_unterminated_quote_is_an_error_naming_its_row(store: Store,
                                                         clock: FixedClock) -> None:
    # Without strict reading, the quote swallowed every later row into one notes cell.
    text = _short("2026-03-02 10:15,grandparent,sgo,legal,advice,fine,",
                  '2026-03-02 10:30,grandparent,sgo,legal,advice,"never closed,',
                  "2026-03-02 10:45,grandparent,sgo,legal,advice,,",
                  "2026-03-02 11:00,grandparent,sgo,legal,advice,,")
    assert _problems(store, text, clock) == [
        'row 3: a quote (") opens a cell that is never closed, so every line after it would '
        "be one cell; close the quote (write a quote inside a cell as two quotes); nothing "
        "after it was read"]
    assert _call_count(store) == 0


def test_text_after_a_closing_quote_is_an_error_naming_its_row(store: Store,
                                                              clock: FixedClock) -> None:
    text = _short('2026-03-02 10:15,grandparent,sgo,legal,advice,"said "no" twice",')
    assert _problems(store, text, clock) == [
        "row 2: a quoted cell has text after its closing quote (write a quote inside a cell "
        "as two quotes); nothing after it was read"]


def test_nul_bytes_and_control_characters_are_refused_by_row_and_column(
        store: Store, clock: FixedClock) -> None:
    text = _short("2026-03-02 10:15,grandparent,sgo,legal,advice,,Ann\x00Smith",
                  "2026-03-02 10:30,grandparent,sgo,legal\x07,advice,ring\x1bback,",
                  '2026-03-02 10:45,grandparent,sgo,legal,advice,,"Ann\nSmith"',
                  "2026-03-02 11:00,grandparent\t,sgo,legal,advice,\x85,")
    assert _problems(store, text, clock) == [
        "row 2, column caller_name: holds a control character (U+0000), which is not text; "
        "remove it",
        "row 3, column topics: holds a control character (U+0007), which is not text; "
        "remove it",
        "row 3, column notes: holds a control character (U+001B), which is not text; "
        "remove it",
        "row 4, column caller_name: holds a line break, which only notes may hold",
        "row 5, column caller_type: holds a tab, which only notes may hold",
        "row 5, column notes: holds a control character (U+0085), which is not text; "
        "remove it",
    ]


def test_notes_may_hold_line_breaks_and_tabs(store: Store, clock: FixedClock) -> None:
    text = _short('2026-03-02 10:15,grandparent,sgo,legal,advice,"first\r\nsecond\tthird",')
    assert import_calls(store, text, clock) == 1
    notes = Calls(store, SUPERVISOR, ANY_TIME).get(1).details.notes
    assert notes == "first\r\nsecond\tthird"


def test_dates_before_2000_or_in_the_future_are_refused(store: Store,
                                                       clock: FixedClock) -> None:
    header = "started_at,caller_type,arrangement,topics,outcomes,follow_up_on"
    text = _csv("1900-01-01 10:15,grandparent,sgo,legal,advice,",
                "2026-03-02 10:15,grandparent,sgo,legal,advice,1999-12-31",
                # the clock passed in is Monday 23 November 2026, 10:15
                "2026-11-23 10:30,grandparent,sgo,legal,advice,",
                "2026-11-23 10:15,grandparent,sgo,legal,advice,2027-01-04",  # fine
                header=header)
    assert _problems(store, text, clock) == [
        "row 2, column started_at: '1900-01-01 10:15' is before 2000: check the year",
        "row 3, column follow_up_on: '1999-12-31' is before 2000: check the year",
        "row 4, column started_at: is in the future",
    ]


def test_a_cell_over_the_limit_is_named_by_row_and_column_with_the_limit(
        store: Store, clock: FixedClock) -> None:
    megabyte = "x" * 1_000_000  # past the csv module's own limit, which names no row
    text = _short(f"2026-03-02 10:15,grandparent,sgo,legal,advice,{megabyte},",
                  f"2026-03-02 10:30,grandparent,sgo,{megabyte},advice,,{'y' * 10_001}")
    problems = _problems(store, text, clock)
    assert problems == [
        "row 2, column notes: is longer than 10000 characters (the most a cell may hold)",
        "row 3, column topics: is longer than 10000 characters (the most a cell may hold)",
        "row 3, column caller_name: is longer than 10000 characters (the most a cell may "
        "hold)"]
    assert import_calls(store, _short(
        f"2026-03-02 10:15,grandparent,sgo,legal,advice,{'x' * 10_000},"), clock) == 1


def test_bytes_that_are_not_utf8_are_named_by_row_and_column(tmp_path: Path,
                                                            store: Store) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes(_short("2026-03-02 10:15,grandparent,sgo,legal,advice,,Zoë",
                            "2026-03-02 10:30,grandparent,sgo,legal,advice,café,")
                     .encode("latin-1"))
    with pytest.raises(ImportRejected, match=r"^is not UTF-8 text; in Excel, save it as "
                                             r"'CSV UTF-8'$") as rejected:
        import_source.CsvSource.of_file(path)  # before any store is opened
    assert [str(p) for p in rejected.value.problems] == [
        "row 2, column caller_name: is not UTF-8 text (a byte 0xEB)",
        "row 3, column notes: is not UTF-8 text (a byte 0xE9)"]
    utf16 = tmp_path / "utf16.csv"
    utf16.write_bytes(SHORT.encode("utf-16"))
    with pytest.raises(ImportRejected) as rejected:
        import_source.CsvSource.of_file(utf16)
    assert str(rejected.value.problems[0]) == "row 1, column A: is not UTF-8 text (a byte 0xFF)"
    assert _call_count(store) == 0


# --- all or none, and a good citizen of a shared store ---------------------------------------

def _columns(store: Store, call_id: int) -> dict[str, object]:
    with store.engine.connect() as connection:
        row = connection.execute(select(Call).where(Call.id == call_id)).mappings().one()
        codes = [sorted(connection.exec_driver_sql(
            f"SELECT * FROM {table} WHERE call_id = {call_id}").fetchall())
            for table in ("call_topic", "call_outcome")]
    return {**{k: v for k, v in row.items() if k != "id"},
            "codes": [[tuple(r)[1:] for r in rows] for rows in codes]}


def test_an_imported_call_is_stored_as_log_calls_stores_it(store: Store, clock: FixedClock) -> None:
    from advice_desk.calls.call_rows import log_calls

    assert import_calls(store, GOOD, clock) == 2
    calls = Calls(store, SUPERVISOR, ANY_TIME)
    first, second = calls.get(1), calls.get(2)
    log_calls(store, [first.details, second.details], first.worker_id, clock)
    for imported, logged in ((1, 3), (2, 4)):
        one, other = _columns(store, imported), _columns(store, logged)
        assert {k: (v, other[k]) for k, v in one.items() if other[k] != v} == {}


def test_imported_calls_are_searchable_and_the_import_is_audited(store: Store,
                                                                clock: FixedClock) -> None:
    assert import_calls(store, GOOD, clock) == 2
    calls = Calls(store, SUPERVISOR, ANY_TIME)
    assert [c.id for c in calls.list(CallQuery(text="margaret"))] == [1]
    assert [c.id for c in calls.list(CallQuery(text="allowance"))] == [1]
    with store.read() as session:
        events = session.exec(select(AuditEvent).where(
            AuditEvent.action == "calls-imported")).all()
    assert [(e.subject, e.detail) for e in events] == [("user imported", '{"calls": 2}')]


class _Watch(ImportWatch):
    def __init__(self, during_check: Callable[[], None] = lambda: None) -> None:
        self.during_check = during_check
        self.rows: list[int] = []
        self.write_s: float | None = None

    def checking(self, rows: int) -> None:
        self.rows.append(rows)
        if len(self.rows) == 1:
            self.during_check()

    def written(self, calls: int, seconds: float) -> None:
        self.write_s = seconds


def _many(count: int, start: datetime = datetime(2026, 3, 2, 9, 0)) -> str:
    """``count`` good rows, each a minute after the last, with a name and notes to index."""
    header = "started_at,duration_minutes,caller_type,arrangement,topics,outcomes,consent," \
             "caller_name,notes"
    rows = [f"{start + timedelta(minutes=i):%Y-%m-%d %H:%M},{i % 50 + 1},grandparent,sgo,"
            f"legal;education,advice;referred:solicitor,yes,Person {i},asked about school {i}"
            for i in range(count)]
    return _csv(*rows, header=header)


def test_a_topic_retired_while_the_file_is_checked_imports_nothing(
        monkeypatch: pytest.MonkeyPatch, store: Store, clock: FixedClock) -> None:
    monkeypatch.setattr(import_check, "CHUNK_ROWS", 10)

    def retire() -> None:
        with store.write() as session:
            topic = session.get(Topic, "education")
            assert topic is not None
            topic.retired = True

    with pytest.raises(ImportRejected, match=r"^topic education stopped being in use while "
                                             r"the file was being checked; nothing was"):
        import_calls(store, _many(30), clock, watch=_Watch(retire))
    assert _call_count(store) == 0
    with store.read() as session:
        assert session.exec(select(User).where(User.username == "imported")).first() is None
        assert session.exec(select(AuditEvent).where(
            AuditEvent.action == "calls-imported")).first() is None


def test_a_topic_moved_under_another_while_the_file_is_checked_imports_nothing(
        monkeypatch: pytest.MonkeyPatch, store: Store, clock: FixedClock) -> None:
    """The figures are counted as the file is checked, each topic under its top-level topic
    then: the write refuses if that no longer holds."""
    monkeypatch.setattr(import_check, "CHUNK_ROWS", 10)

    def move() -> None:
        with store.write() as session:
            topic = session.get(Topic, "legal.sgo")
            assert topic is not None
            topic.parent_code = "financial"

    rows = _many(30).replace("legal;education", "legal.sgo;education")
    with pytest.raises(ImportRejected, match=r"^the topics were rearranged while the file "
                                             r"was being checked; nothing was imported"):
        import_calls(store, rows, clock, watch=_Watch(move))
    assert _call_count(store) == 0


def _fail_on_signposted(store: Store) -> None:
    """A database that refuses one outcome row, as a full disk or a damaged page would fail
    an insert half-way through the write."""
    with store.engine.begin() as connection:
        if store.is_sqlite:
            connection.exec_driver_sql(
                "CREATE TRIGGER refuse BEFORE INSERT ON call_outcome "
                "WHEN new.outcome = 'signposted' BEGIN SELECT RAISE(ABORT, 'refused'); END")
        else:
            connection.exec_driver_sql(
                "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                "IF new.outcome = 'signposted' THEN RAISE EXCEPTION 'refused'; END IF; "
                "RETURN new; END $$")
            connection.exec_driver_sql(
                "CREATE TRIGGER refuse BEFORE INSERT ON call_outcome "
                "FOR EACH ROW EXECUTE FUNCTION refuse()")


def test_a_write_that_fails_half_way_leaves_nothing(monkeypatch: pytest.MonkeyPatch,
                                                    store: Store, clock: FixedClock) -> None:
    monkeypatch.setattr(import_check, "CHUNK_ROWS", 10)
    text = _many(25).rstrip("\n") + "\n2026-03-03 10:00,5,grandparent,sgo,legal,signposted,no,,\n"
    _fail_on_signposted(store)
    with pytest.raises(sa.exc.DBAPIError, match="refused"):
        import_calls(store, text, clock)
    assert _call_count(store) == 0
    calls = Calls(store, SUPERVISOR, ANY_TIME)
    assert calls.list(CallQuery(text="school")) == []
    with store.read() as session:
        assert session.exec(select(User).where(User.username == "imported")).first() is None
    assert import_calls(store, _many(25), clock) == 25  # the triggers of the index are back
    assert len(calls.list(CallQuery(text="school"))) == 25


def _take_the_write_lock_at_once(location: Location) -> None:
    """Take the store's write lock from another connection without waiting: SQLite's
    ``BEGIN IMMEDIATE`` ("database is locked" if held), the server's advisory lock."""
    if location.sqlite_file is not None:
        free = sqlite3.connect(location.sqlite_file, timeout=0, isolation_level=None)
        try:
            free.execute("BEGIN IMMEDIATE")
            free.execute("ROLLBACK")
        finally:
            free.close()
        return
    other = sa.create_engine(location.database_url, poolclass=sa.NullPool)
    try:
        with other.begin() as connection:
            assert connection.exec_driver_sql(
                f"SELECT pg_try_advisory_xact_lock({WRITE_LOCK_KEY})").scalar_one()
    finally:
        other.dispose()


def test_workers_can_save_while_a_file_is_being_checked(
        monkeypatch: pytest.MonkeyPatch, location: Location, store: Store,
        clock: FixedClock) -> None:
    """The write lock is held only for the short write at the end: while the rows are being
    checked, another connection takes it at once (no wait at all) and saves a call."""
    monkeypatch.setattr(import_check, "CHUNK_ROWS", 50)
    worker = get_or_create_user(store, "amy", clock)
    saved: list[int] = []

    def save_elsewhere() -> None:
        _take_the_write_lock_at_once(location)
        with opened_store(location, clock) as desk:
            saved.append(Calls(desk, actor_of(worker), clock).log(a_call(clock)))

    watch = _Watch(save_elsewhere)
    assert import_calls(store, _many(200), clock, watch=watch) == 200
    assert watch.rows == [50, 100, 150, 200]
    assert saved == [1] and _call_count(store) == 201


@pytest.mark.slow
@pytest.mark.sqlite_only("on a server the COPY write of 20,000 rows is not yet a short part of "
                        "the import (about 40% of it under load): a known gap, see README")
def test_a_big_file_is_written_in_a_short_transaction_in_little_memory(
        tmp_path: Path, store: Store, clock: FixedClock) -> None:
    path = tmp_path / "big.csv"
    path.write_text(_many(20_000), encoding="utf-8")
    import_calls(store, _many(3), clock)  # what is loaded once (the bank holidays...) is loaded
    watch = _Watch()
    tracemalloc.start()
    started = time.perf_counter()
    try:
        assert import_file(store, path, clock, watch=watch) == 20_000
        total = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert watch.rows[-1] == 20_000
    assert watch.write_s is not None and watch.write_s < total / 3  # the lock: a short part
    assert peak < 2 * path.stat().st_size  # the rows are never all Python objects at once
    assert _call_count(store) == 20_003
    assert len(Calls(store, SUPERVISOR, ANY_TIME).list(CallQuery(text="person 19999"))) == 1
