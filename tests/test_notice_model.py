"""The notice's pure rules and numbers: 文号 sequences, typed dates, time rules, the state
diagram."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from handlers.notice.draft import NoticeDraft
from handlers.notice.states import State, next_state
from handlers.notice.timing import (
    DEADLINE_BEFORE_PUBLISH,
    DEADLINE_PAST,
    DEADLINE_TOO_FAR,
    DISPLAY_BEFORE_DEADLINE,
    DISPLAY_BEFORE_PUBLISH,
    PUBLISH_PAST,
    PUBLISH_TOO_FAR,
    time_problems,
)
from handlers.notice.when import Typed, parse_typed
from models.db.engine import Database
from models.notices.queries import allocate_serial
from models.notices.tables import AudienceKind, NoticeKind, notice_number
from models.school.tables import School

ZONE = ZoneInfo("Asia/Shanghai")
TODAY = date(2026, 11, 16)


def test_the_number_is_printed_as_a_document_number() -> None:
    assert notice_number(2026, 12) == "〔2026〕第012号"
    assert notice_number(2027, 1234) == "〔2027〕第1234号"


async def _allocate(db: Database, school_id: int, year: int) -> int:
    async with db.session() as session:
        return await allocate_serial(session=session, school_id=school_id, year=year)


async def test_numbers_run_per_school_and_year(db: Database) -> None:
    async with db.session() as session:
        first, second = School(name="一小"), School(name="二小")
        session.add_all([first, second])
    a, b = first.id or 0, second.id or 0
    assert [await _allocate(db, a, 2026) for _ in range(3)] == [1, 2, 3]
    assert await _allocate(db, b, 2026) == 1
    assert await _allocate(db, a, 2027) == 1
    assert await _allocate(db, a, 2026) == 4


async def test_numbers_allocated_at_once_never_repeat(db: Database) -> None:
    async with db.session() as session:
        school = School(name="一小")
        session.add(school)
    got = await asyncio.gather(*(_allocate(db, school.id or 0, 2026) for _ in range(10)))
    assert sorted(got) == list(range(1, 11))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("明天 18:00", Typed(date(2026, 11, 17), time(18, 0))),
        ("后天下午5点", Typed(date(2026, 11, 18), time(17, 0))),
        ("11月20日 8:30", Typed(date(2026, 11, 20), time(8, 30))),
        ("11月20号", Typed(date(2026, 11, 20), None)),
        ("2026-11-20 18:00", Typed(date(2026, 11, 20), time(18, 0))),
        ("2026/11/20", Typed(date(2026, 11, 20), None)),
        ("2026年12月1日 9点", Typed(date(2026, 12, 1), time(9, 0))),
        ("11-20", Typed(date(2026, 11, 20), None)),
        ("12月1日晚上7点半", Typed(date(2026, 12, 1), time(19, 30))),
        ("18:00", Typed(TODAY, time(18, 0))),
        ("下午3点", Typed(TODAY, time(15, 0))),
        ("1月5日", Typed(date(2027, 1, 5), None)),  # more than two months past: next year
        ("11月10日", Typed(date(2026, 11, 10), None)),  # just past: refused by the caller
        ("11月31日", None),
        ("25:00", None),
        ("下周", None),
        ("明天 带伞", None),
        ("", None),
    ],
)
def test_typed_dates_and_times(text: str, expected: Typed | None) -> None:
    assert parse_typed(text, today=TODAY) == expected


NOW = datetime(2026, 11, 16, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai


def _at(day: int, hour: int) -> datetime:
    return datetime(2026, 11, day, hour, 0, tzinfo=ZONE)


@pytest.mark.parametrize(
    ("deadline", "publish_at", "display", "expected"),
    [
        (_at(17, 18), None, date(2026, 12, 1), []),
        (_at(16, 9), None, None, [DEADLINE_PAST]),
        (None, _at(16, 9), None, [PUBLISH_PAST]),
        (_at(17, 18), _at(18, 8), None, [DEADLINE_BEFORE_PUBLISH]),
        (None, _at(18, 8), date(2026, 11, 17), [DISPLAY_BEFORE_PUBLISH]),
        (_at(20, 18), None, date(2026, 11, 19), [DISPLAY_BEFORE_DEADLINE]),
        (None, None, date(2026, 11, 15), [DISPLAY_BEFORE_PUBLISH]),
        (_at(20, 18), _at(17, 8), date(2026, 11, 20), []),
        (_at(20, 18) + timedelta(days=365 * 36), None, None, [DEADLINE_TOO_FAR]),
        (None, _at(17, 8) + timedelta(days=200), None, [PUBLISH_TOO_FAR]),
        (_at(20, 18) + timedelta(days=150), None, None, []),
    ],
)
def test_time_rules(
    deadline: datetime | None,
    publish_at: datetime | None,
    display: date | None,
    expected: list[object],
) -> None:
    found = time_problems(
        now=NOW, zone=ZONE, deadline=deadline, publish_at=publish_at, display_until=display
    )
    assert found == expected


DONE = {
    "kind": NoticeKind.OUTING,
    "title": "秋游",
    "body": "正文",
    "files_done": True,
    "audience_kind": AudienceKind.SCHOOL,
    "audience_done": True,
    "receipt_required": False,
    "publish_now": True,
    "display_until": date(2026, 12, 1),
}


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({}, State.KIND),
        ({**DONE, "title": None}, State.TITLE),
        ({**DONE, "body": None}, State.BODY),
        ({**DONE, "files_done": False}, State.FILES),
        ({**DONE, "audience_kind": None}, State.AUDIENCE),
        ({**DONE, "audience_kind": AudienceKind.GRADES, "audience_done": False}, State.GRADES),
        ({**DONE, "audience_kind": AudienceKind.CLASSES, "audience_done": False}, State.CLASSES),
        ({**DONE, "audience_kind": AudienceKind.STUDENTS, "audience_done": False}, State.STUDENTS),
        ({**DONE, "receipt_required": None}, State.RECEIPT),
        ({**DONE, "receipt_required": True}, State.DEADLINE),
        ({**DONE, "publish_now": None}, State.PUBLISH),
        ({**DONE, "publish_now": False}, State.PUBLISH_AT),
        ({**DONE, "display_until": None}, State.DISPLAY),
        (DONE, State.SUMMARY),
    ],
)
def test_next_question_is_the_first_thing_the_draft_lacks(
    fields: dict[str, object], expected: State
) -> None:
    assert next_state(NoticeDraft.model_validate(fields)) is expected


def test_draft_survives_a_json_round_trip() -> None:
    draft = NoticeDraft.model_validate({**DONE, "deadline": _at(17, 18), "audience_ids": [1, 2]})
    assert NoticeDraft.model_validate(draft.model_dump(mode="json")) == draft
