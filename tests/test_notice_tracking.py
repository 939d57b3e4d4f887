"""`/notices` for staff through the real dispatcher: counts, per-class pages, the missing
families, who may see what (`handlers.notice.staff_view`, `models.notices.tracking`)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from models.db.engine import Database
from models.notices.tracking import (
    Reach,
    best_reach,
    class_tallies,
    guardian_reach,
    parse_number,
    sending_of,
    tallies,
)
from models.outbox.tables import OutboxMessage, OutboxStatus
from scheduler.jobs.notices import archive_notices
from tests.helpers import factories
from tests.helpers.clock import FakeClock
from tests.helpers.factories import bind, seed_school
from tests.helpers.notices import add_guardian
from tests.helpers.outbox import another_school_s_row, outbox
from tests.helpers.receipts import confirm, local, published_notice, run_job
from tests.helpers.visits import ChatUser, full_dispatcher

PUBLISHED = local(2026, 11, 16, 10)
ALL_CLASSES = ("三(1)班", "三(2)班", "四(1)班")


async def _user(db: Database, clock: FakeClock, person: object) -> ChatUser:
    return ChatUser(full_dispatcher(db, clock), await bind(db, clock, person))  # type: ignore[arg-type]


async def _school_wide(db: Database, clock: FakeClock) -> tuple[factories.TestSchool, int]:
    """All three classes (18 students); 刘梅 (张小明 and 张小红) and 李华家长 confirmed."""
    ts = await seed_school(db)
    await bind(db, clock, ts.guardians["刘梅"])
    notice = await published_notice(db, ts, PUBLISHED, classes=ALL_CLASSES)
    await confirm(db, notice, ts.guardians["刘梅"], PUBLISHED + timedelta(minutes=30))
    await confirm(db, notice, ts.guardians["李华家长"], PUBLISHED + timedelta(minutes=40))
    return ts, notice.id or 0


async def test_an_admin_lists_recent_notices_with_confirmed_students_out_of_all(
    db: Database, clock: FakeClock
) -> None:
    ts, _ = await _school_wide(db, clock)
    admin = await _user(db, clock, ts.staff["赵敏"])
    await admin.send("/notices")
    assert "1. 〔2026〕第001号《秋季研学活动通知》" in admin.text
    assert "外出活动 · 11月16日发布 · 已确认 3/18" in admin.text
    assert admin.labels == ["1. 秋季研学活动通知"]


async def test_the_chinese_keyword_opens_the_same_list(db: Database, clock: FakeClock) -> None:
    ts, _ = await _school_wide(db, clock)
    admin = await _user(db, clock, ts.staff["赵敏"])
    await admin.send("通知列表")
    assert "已确认 3/18" in admin.text


async def test_a_head_teacher_counts_only_their_own_class(db: Database, clock: FakeClock) -> None:
    ts, _ = await _school_wide(db, clock)
    head = await _user(db, clock, ts.staff["孙丽"])  # 四(1)班: 张小红 confirmed by 刘梅
    await head.send("/notices")
    assert "已确认 1/6" in head.text


async def test_opening_a_notice_shows_counts_per_class_and_who_is_missing(
    db: Database, clock: FakeClock
) -> None:
    ts, _ = await _school_wide(db, clock)
    admin = await _user(db, clock, ts.staff["赵敏"])
    await admin.send("/notices")
    await admin.press("1. 秋季研学活动通知")
    text = admin.text
    assert admin.replies[0].edit
    assert "已确认 3/18（按学生计，任一家长确认即算）" in text
    assert "· 三(1)班  已确认 1/6" in text
    assert "· 三(2)班  已确认 1/6" in text
    assert "· 四(1)班  已确认 1/6" in text
    assert "消息已发送 0/1 条，未绑定家长 16 位" in text
    assert "未确认的学生（15 名），请电话联系家长：" in text
    assert "1. 三(1)班 周杰\n   父亲 周杰家长 " in text
    assert "（未绑定，未收到）" in text
    assert "……另有 0 名" not in text
    assert admin.labels == ["三(1)班 5", "三(2)班 5", "四(1)班 5", "« 返回列表"]


async def test_a_class_page_lists_all_its_missing_students_with_phones(
    db: Database, clock: FakeClock
) -> None:
    ts, _ = await _school_wide(db, clock)
    admin = await _user(db, clock, ts.staff["赵敏"])
    await admin.send("/notices")
    await admin.press("1. 秋季研学活动通知")
    await admin.press("三(2)班 5")
    text = admin.text
    assert "已确认 1/6（按学生计" in text
    assert "张小明" not in text  # confirmed by his mother
    phone = ts.guardians["王磊家长"].phone
    assert f"三(2)班 王磊\n   父亲 王磊家长 {phone}（未绑定，未收到）" in text
    assert admin.labels == ["« 全部班级", "« 返回列表"]
    await admin.press("« 返回列表")
    assert "1. 〔2026〕第001号《秋季研学活动通知》" in admin.text


async def test_a_head_teacher_sees_only_their_class_and_its_missing_families(
    db: Database, clock: FakeClock
) -> None:
    ts, _ = await _school_wide(db, clock)
    head = await _user(db, clock, ts.staff["王芳"])  # head of 三(2)班, teaches in 三(1)班
    await head.send("/notices")
    await head.press("1. 秋季研学活动通知")
    text = head.text
    assert "已确认 1/6" in text
    assert "三(1)班" not in text and "四(1)班" not in text
    assert "未确认的学生（5 名）" in text
    assert "消息已发送" not in text  # the sending figures are for 德育处 and the author
    assert head.labels == ["« 返回列表"]


async def test_a_forged_press_for_another_class_shows_nothing(
    db: Database, clock: FakeClock
) -> None:
    ts, notice_id = await _school_wide(db, clock)
    head = await _user(db, clock, ts.staff["王芳"])
    await head.callback(f"!nst:{notice_id}.{ts.classes['四(1)班'].id}")
    assert head.text == "没有找到这份通知，或您没有查看它的权限。"


async def test_a_teacher_whose_classes_are_not_in_the_notice_cannot_open_it(
    db: Database, clock: FakeClock
) -> None:
    ts = await seed_school(db)
    notice = await published_notice(db, ts, PUBLISHED, classes=("三(2)班",))
    head = await _user(db, clock, ts.staff["孙丽"])
    await head.send("/notices")
    assert head.text == "目前没有您可以查看的通知。"
    await head.callback(f"!nst:{notice.id}")
    assert head.text == "没有找到这份通知，或您没有查看它的权限。"
    coach = await _user(db, clock, ts.staff["钱进"])  # no class to track: the matrix refuses
    await coach.callback(f"!nst:{notice.id}")
    assert coach.text == "这个按钮不适用于您。"


async def test_a_guardian_pressing_staff_tracking_data_sees_nothing(
    db: Database, clock: FakeClock
) -> None:
    ts, notice_id = await _school_wide(db, clock)
    mother = await _user(db, clock, ts.guardians["刘梅"])
    for data in (f"!nst:{notice_id}", f"!nst:{notice_id}.1", "!nsl:0"):
        await mother.callback(data)
        assert mother.text == "这个按钮不适用于您。"  # the matrix: tracking is for staff
    await mother.callback("!nst:x")  # no button carries this: the dispatcher's stale-button answer
    assert mother.text == "这个按钮已失效。"


async def test_archived_notices_stay_searchable_by_number_or_title(
    db: Database, clock: FakeClock
) -> None:
    ts = await seed_school(db)
    await published_notice(db, ts, PUBLISHED, display_until=date(2026, 11, 17))
    await published_notice(db, ts, PUBLISHED + timedelta(hours=1), title="期末放假通知")
    await run_job(db, ts, archive_notices, local(2026, 11, 18, 0, 5))
    admin = await _user(db, clock, ts.staff["赵敏"])
    await admin.send("/notices 〔2026〕第001号")
    assert "与“〔2026〕第001号”相符的通知：" in admin.text
    assert "《秋季研学活动通知》" in admin.text and "已归档" in admin.text
    assert "期末放假" not in admin.text
    await admin.send("/notices 放假")
    assert "〔2026〕第002号《期末放假通知》" in admin.text and "研学" not in admin.text
    await admin.send("/notices 运动会")
    assert admin.text == "没有找到与“运动会”相符的通知。"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("〔2026〕第012号", (2026, 12)),
        ("[2026]012", (2026, 12)),
        ("2026-12", (2026, 12)),
        ("2026年第3号", (2026, 3)),
        ("第12号", (None, 12)),
        ("012", (None, 12)),
        ("秋游", None),
        ("", None),
    ],
)
def test_notice_numbers_as_people_type_them(
    text: str, expected: tuple[int | None, int] | None
) -> None:
    assert parse_number(text) == expected


# -- the counts ---------------------------------------------------------------------------------


async def test_a_student_with_two_guardians_counts_once_whichever_confirms(
    db: Database, clock: FakeClock
) -> None:
    ts = await seed_school(db)
    father = await add_guardian(db, ts, "王磊", "王建国", "13600000009", "父亲")
    notice = await published_notice(db, ts, PUBLISHED)
    await confirm(db, notice, father, PUBLISHED + timedelta(minutes=5))
    await confirm(db, notice, ts.guardians["王磊家长"], PUBLISHED + timedelta(minutes=6))
    async with db.session() as session:
        counts = await tallies(session=session, notice_ids=[notice.id or 0])
        [klass] = await class_tallies(session=session, notice_id=notice.id or 0)
    assert (counts[notice.id or 0].confirmed, counts[notice.id or 0].total) == (1, 6)
    assert klass.klass.name == "三(2)班" and klass.tally.missing == 5


async def test_sending_figures_follow_the_outbox(db: Database, clock: FakeClock) -> None:
    ts = await seed_school(db)
    for name in ("刘梅", "李娜家长", "王磊家长"):
        await bind(db, clock, ts.guardians[name])
    notice = await published_notice(db, ts, PUBLISHED)
    rows = await outbox(db, prefix=f"notice:{notice.id}:")
    async with db.session() as session:
        for row, status in zip(rows, (OutboxStatus.SENT, OutboxStatus.FAILED), strict=False):
            stored = await session.get(OutboxMessage, row.id)
            assert stored is not None
            stored.status = status
            session.add(stored)
    async with db.session() as session:
        sending = await sending_of(session=session, notice_id=notice.id or 0)
    assert (sending.sent, sending.failed, sending.waiting, sending.unbound) == (1, 1, 1, 3)
    assert not sending.finished and sending.messages == 3


async def test_another_school_s_outbox_row_under_the_same_key_does_not_count(
    db: Database, clock: FakeClock
) -> None:
    """Outbox keys are unique within a school: another school's bot may hold `notice:N:…` too."""
    ts = await seed_school(db)
    await bind(db, clock, ts.guardians["刘梅"])
    notice = await published_notice(db, ts, PUBLISHED)
    [row] = await outbox(db, prefix=f"notice:{notice.id}:")
    await another_school_s_row(db, key=row.key, kind=row.kind, status=OutboxStatus.FAILED)
    async with db.session() as session:
        sending = await sending_of(session=session, notice_id=notice.id or 0)
        reach = await guardian_reach(session=session, notice_id=notice.id or 0)
    assert (sending.sent, sending.failed, sending.waiting, sending.unbound) == (0, 0, 1, 5)
    assert reach[ts.guardians["刘梅"].id or 0] is Reach.SENDING


@pytest.mark.parametrize(
    ("reaches", "best"),
    [
        ([], Reach.UNBOUND),
        ([Reach.FAILED, Reach.SENT], Reach.SENT),
        ([Reach.UNBOUND, Reach.SENDING], Reach.SENDING),
        ([Reach.FAILED, Reach.UNKNOWN], Reach.UNKNOWN),
    ],
)
def test_a_guardian_reached_on_one_channel_is_reached(reaches: list[Reach], best: Reach) -> None:
    assert best_reach(reaches) is best
