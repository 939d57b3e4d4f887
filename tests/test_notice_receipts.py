"""Guardians and a published notice: one message per family, 确认收到 once per student, forged
presses refused, 有疑问 forwarded without contact details, and the guardian's /notices."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import update

from models.db.engine import Database
from models.notices.publishing import publish_notice
from models.notices.queries import outbox_key
from models.notices.tables import Notice, NoticeStatus
from models.outbox.tables import enqueue
from tests.helpers.clock import FakeClock
from tests.helpers.factories import seed_school
from tests.helpers.notices import (
    OPENING,
    add_guardian,
    bind_guardians,
    notice_rows,
    notices,
    press_data,
    press_on,
    receipts,
    received,
)
from tests.helpers.outbox import school_for_rows
from tests.helpers.visits import ChatUser, full_dispatcher, person

if TYPE_CHECKING:
    from tests.helpers.factories import TestSchool

#: An admin's outing notice to 三(2)班 and 四(1)班, published at once.
TWO_CLASSES = (*OPENING, "按班级", "三(2)班", "四(1)班", "完成", "需要回执", "明天 18:00")
PUBLISH = ("提交后立即发布", ">12月1日", "提交")


async def _published(
    db: Database, clock: FakeClock, *guardians: str, steps: tuple[str, ...] = TWO_CLASSES
) -> tuple[TestSchool, ChatUser, dict[str, ChatUser]]:
    ts = await seed_school(db)
    dispatcher = full_dispatcher(db, clock)
    admin = await person(db, clock, dispatcher, ts.staff["赵敏"])
    families = await bind_guardians(db, clock, dispatcher, ts, *guardians)
    await admin.steps(*steps, *PUBLISH)
    return ts, admin, families


async def _confirmed(db: Database) -> dict[int, tuple[object, int | None]]:
    return {r.student_id: (r.confirmed_at, r.confirmed_by) for r in await receipts(db)}


async def test_a_guardian_of_two_children_gets_one_message_naming_both(
    db: Database, clock: FakeClock
) -> None:
    _ts, _admin, families = await _published(db, clock, "刘梅")
    [message] = await received(db, families["刘梅"])
    assert "张小明（三(2)班）、张小红（四(1)班）的家长：" in message.text
    assert [b.label for row in message.buttons for b in row] == ["确认收到", "有疑问"]


async def test_enqueueing_a_notice_twice_keeps_one_row_per_key(
    db: Database, clock: FakeClock
) -> None:
    ts, _admin, _families = await _published(db, clock, "刘梅", "李娜家长")
    [notice] = await notices(db)
    before = await notice_rows(db)
    async with db.session() as session:
        again = await publish_notice(
            session=session,
            notice_id=notice.id or 0,
            now=clock(),
            due_at=clock(),
            render=lambda n, f, a: {"text": "again", "buttons": []},
        )
        assert again is None
        key = outbox_key(notice.id or 0, ts.guardians["刘梅"].id or 0, "console")
        added = await enqueue(
            session=session,
            school_id=await school_for_rows(session),
            key=key,
            kind="notice",
            channel="console",
            chat_id="x",
            payload={"text": "again", "buttons": []},
        )
        assert not added
    assert [(r.key, r.payload) for r in await notice_rows(db)] == [
        (r.key, r.payload) for r in before
    ]
    assert len(before) == 2 and len(await receipts(db)) == 12


async def test_confirming_records_each_child_once_and_edits_the_message(
    db: Database, clock: FakeClock
) -> None:
    ts, _admin, families = await _published(db, clock, "刘梅")
    mother = families["刘梅"]
    [message] = await received(db, mother)
    clock.advance(minutes=5)
    confirmed_at = clock()
    await press_on(mother, message, "确认收到", update_key="u1")
    [reply] = mother.replies
    assert reply.edit
    assert reply.text.startswith(message.text)
    assert reply.text.endswith("✓ 已确认收到（11月16日 10:05）")
    assert [b.label for row in reply.buttons for b in row] == ["有疑问"]
    mother_id = ts.guardians["刘梅"].id
    brother, sister = ts.students["张小明"].id or 0, ts.students["张小红"].id or 0
    state = await _confirmed(db)
    assert state[brother] == (confirmed_at, mother_id) and state[sister] == (
        confirmed_at,
        mother_id,
    )
    assert [r.channel for r in await receipts(db) if r.confirmed_at] == ["console", "console"]
    # The same update redelivered, then a second press an hour later: nothing changes.
    await press_on(mother, message, "确认收到", update_key="u1")
    assert mother.replies == []
    clock.advance(hours=1)
    await press_on(mother, message, "确认收到", update_key="u2")
    assert mother.replies[0].text.endswith("✓ 已确认收到（11月16日 10:05）")
    assert await _confirmed(db) == state
    assert sum(1 for r in await receipts(db) if r.confirmed_at) == 2


async def test_a_two_guardian_family_is_counted_once_per_student(
    db: Database, clock: FakeClock
) -> None:
    ts = await seed_school(db)
    await add_guardian(db, ts, "李娜", "李娜母亲", "13600000001", "母亲")
    dispatcher = full_dispatcher(db, clock)
    admin = await person(db, clock, dispatcher, ts.staff["赵敏"])
    families = await bind_guardians(db, clock, dispatcher, ts, "李娜家长", "李娜母亲")
    await admin.steps(*TWO_CLASSES, *PUBLISH)
    father, mother = families["李娜家长"], families["李娜母亲"]
    [to_father], [to_mother] = await received(db, father), await received(db, mother)
    assert "李娜（三(2)班）的家长" in to_father.text and "李娜（三(2)班）的家长" in to_mother.text
    await press_on(mother, to_mother, "确认收到")
    first = clock()
    clock.advance(minutes=30)
    await press_on(father, to_father, "确认收到")
    assert father.replies[0].text.endswith("✓ 已确认收到（11月16日 10:00）")
    lina = ts.students["李娜"].id or 0
    assert (await _confirmed(db))[lina] == (first, ts.guardians["李娜母亲"].id)
    assert sum(1 for r in await receipts(db) if r.confirmed_at) == 1


async def test_another_family_cannot_confirm_open_or_ask_about_a_notice_by_forging(
    db: Database, clock: FakeClock
) -> None:
    steps = (*OPENING, "按班级", "三(2)班", "完成", "需要回执", "明天 18:00")
    _ts, _admin, families = await _published(db, clock, "刘梅", "李华家长", steps=steps)
    [notice] = await notices(db)
    outsider = families["李华家长"]  # 李华 is in 三(1)班, not in the audience
    for action in ("nok", "nshow", "nq"):
        await press_data(outsider, f"!{action}:{notice.id}")
        assert outsider.text == "这个按钮已失效。"
    await press_data(outsider, "!nok:999")
    assert outsider.text == "这个按钮已失效。"
    assert all(r.confirmed_at is None for r in await receipts(db))
    # Staff pressing a guardian's button get nothing either.
    await press_data(_admin, f"!nok:{notice.id}")
    assert _admin.text == "这个按钮不适用于您。"


async def test_a_notice_without_receipt_has_no_confirm_button_and_refuses_one(
    db: Database, clock: FakeClock
) -> None:
    steps = ("/notice", "放假", ">元旦放假", ">1月1日至3日放假。", "跳过", "全校", "不需要回执")
    _ts, _admin, families = await _published(db, clock, "刘梅", steps=steps)
    [message] = await received(db, families["刘梅"])
    assert message.buttons == ()
    [notice] = await notices(db)
    await press_data(families["刘梅"], f"!nok:{notice.id}")
    assert families["刘梅"].text == "这个按钮已失效。"
    assert all(r.confirmed_at is None for r in await receipts(db))


async def test_a_question_reaches_the_head_teacher_without_phone_or_account(
    db: Database, clock: FakeClock
) -> None:
    ts, _admin, families = await _published(db, clock, "刘梅")
    head = await person(db, clock, _admin.dispatcher, ts.staff["孙丽"])  # 四(1)班
    mother = families["刘梅"]
    [message] = await received(db, mother)
    await press_on(mother, message, "有疑问")
    assert "您的疑问是关于哪个孩子的？" in mother.text
    await mother.press("张小红（四(1)班）")
    assert "我会转给四(1)班班主任" in mother.text
    await mother.send("需要自带午餐吗？")
    assert "您的疑问已转给四(1)班班主任" in mother.text
    [forwarded] = await received(db, head, "notice-question:")
    assert "四(1)班张小红的母亲问：\n需要自带午餐吗？" in forwarded.text
    assert ts.guardians["刘梅"].phone not in forwarded.text
    assert mother.user_id not in forwarded.text and "刘梅" not in forwarded.text


async def test_a_guardian_sees_their_current_notices_and_what_they_confirmed(
    db: Database, clock: FakeClock
) -> None:
    steps = (*OPENING, "按班级", "三(2)班", "完成", "需要回执", "明天 18:00")
    _ts, admin, families = await _published(db, clock, "刘梅", "李华家长", steps=steps)
    clock.advance(minutes=1)
    await admin.steps("/notice", "收费", ">校服费", ">请交校服费。", "跳过", "按班级", "四(1)班")
    await admin.steps("完成", "需要回执", "明天 18:00", *PUBLISH)
    first, second = await notices(db)
    mother = families["刘梅"]
    await press_data(mother, f"!nok:{first.id}")
    await mother.send("/notices")
    text = mother.text
    assert "您的通知（2 条，最新的在前）" in text
    assert text.index("《校服费》") < text.index("《秋季研学活动通知》")
    assert "张小红（四(1)班）：未确认" in text
    assert "张小明（三(2)班）：✓ 已确认（11月16日 10:01）" in text
    await mother.press("查看第 1 条")
    assert "《校服费》" in mother.text and "确认收到" in mother.labels
    # Another family sees neither; an archived notice is no longer listed.
    await families["李华家长"].send("通知列表")
    assert families["李华家长"].text == "目前没有需要您查看的通知。"
    async with db.session() as session:
        await session.exec(
            update(Notice).where(Notice.id == second.id).values(status=NoticeStatus.ARCHIVED)  # type: ignore[arg-type]
        )
    await mother.send("/notices")
    assert "《校服费》" not in mother.text and "《秋季研学活动通知》" in mother.text


async def test_confirming_after_the_deadline_is_still_recorded(
    db: Database, clock: FakeClock
) -> None:
    _ts, _admin, families = await _published(db, clock, "刘梅")
    [message] = await received(db, families["刘梅"])
    clock.advance(days=3)
    await press_on(families["刘梅"], message, "确认收到")
    assert sum(1 for r in await receipts(db) if r.confirmed_at) == 2


async def test_the_head_teacher_answers_a_question_through_the_bot_once(
    db: Database, clock: FakeClock
) -> None:
    steps = (*OPENING, "按班级", "三(2)班", "完成", "需要回执", "明天 18:00")
    ts, admin, families = await _published(db, clock, "刘梅", steps=steps)
    head = await person(db, clock, admin.dispatcher, ts.staff["王芳"])
    mother = families["刘梅"]
    [message] = await received(db, mother)
    await press_on(mother, message, "有疑问")
    await mother.send("几点到校？")
    [forwarded] = await received(db, head, "notice-question:")
    outsider = await person(db, clock, admin.dispatcher, ts.staff["孙丽"])
    await press_on(outsider, forwarded, "回复家长")
    assert outsider.text == "这个按钮已失效。"
    await press_on(head, forwarded, "回复家长")
    assert "请输入给家长的答复" in head.text
    await head.send("早上7:50到校。")
    assert head.text == "答复已发给家长。"
    [answer] = await received(db, mother, "notice-answer:")
    assert "三(2)班班主任：\n早上7:50到校。" in answer.text
    assert "13900000001" not in answer.text and head.user_id not in answer.text
    await press_on(head, forwarded, "回复家长")
    assert "这个疑问已于 11月16日 10:00 答复：早上7:50到校。" in head.text
