"""Who sees a care case (DESIGN.md "Privacy"; seed 002: confidentiality): every role tries to
open it — by command, by each of the case's buttons, forged — and only care staff and the
principal see its content; the principal reads but cannot write; for everyone else an existing
case answers exactly as a missing one, and nothing is changed or audited as read."""

from __future__ import annotations

import io

import pytest
from sqlmodel import select

from handlers.care import buttons as b
from handlers.dispatcher import Dispatcher
from models.care.tables import CareEntryKind, CaseStatus
from models.db.engine import Database
from models.ledger.tables import LedgerItem
from scheduler.jobs.care import CARE_REMINDERS
from scheduler.jobs.digest import DAILY_DIGEST
from tests.helpers.care import NOTICED, add_care_staff, audit_rows, cases, entries, refer
from tests.helpers.clock import FakeClock
from tests.helpers.duties import local, run_at
from tests.helpers.factories import TestSchool
from tests.helpers.outbox import outbox, reply_of
from tests.helpers.visits import ChatUser, chat_as, full_dispatcher, person

MISSING = 987654
ALL_BUTTONS = (b.OPEN, b.LOG, b.TAKE, b.ASSESS, b.PLAN, b.CONTACT, b.SUMMARY, b.CLOSE)
#: What the case holds that no one but care staff and the principal may read.
SECRETS = (NOTICED[:8], "心理", "每周谈心")


async def _worked_case(
    db: Database, school: TestSchool, clock: FakeClock
) -> tuple[Dispatcher, int]:
    care = await add_care_staff(db, school)
    dispatcher = full_dispatcher(db, clock)
    teacher = await chat_as(db, clock, school.staff["李强"], dispatcher)
    await refer(teacher)
    worker = await person(db, clock, dispatcher, care.worker)
    [case] = await cases(db)
    await worker.send(f"/cases {case.id}")
    await worker.steps("接手", "评估", "心理", "中", "帮扶计划", ">每周谈心", "跳过", "跳过")
    await worker.steps(">周心", "每7天")
    assert "已保存帮扶计划。" in worker.text
    return dispatcher, case.id or 0


async def _answers(user: ChatUser, case_id: int) -> list[str]:
    answers = []
    await user.send(f"/cases {case_id}")
    answers.append(user.text)
    for action in ALL_BUTTONS:
        await user.callback(f"!{action}:{case_id}")
        answers.append(user.text)
    return answers


async def _someone(
    db: Database, school: TestSchool, clock: FakeClock, dispatcher: Dispatcher, who: str
) -> ChatUser:
    if who == "unbound":
        return ChatUser(dispatcher, "stranger-1")
    if who == "guardian":
        return await person(db, clock, dispatcher, school.guardians["刘梅"])
    return await person(db, clock, dispatcher, school.staff[who])


@pytest.mark.parametrize(
    "who",
    [
        pytest.param("王芳", id="the students head teacher"),
        pytest.param("李强", id="the referring teacher"),
        pytest.param("钱进", id="a coach"),
        pytest.param("赵敏", id="the moral-education office"),
        pytest.param("guardian", id="the students mother"),
        pytest.param("unbound", id="an unbound user"),
    ],
)
async def test_no_one_but_care_staff_and_the_principal_sees_a_case_and_a_real_one_looks_missing(
    db: Database, school: TestSchool, clock: FakeClock, who: str
) -> None:
    dispatcher, case_id = await _worked_case(db, school, clock)
    reads_before = len(await audit_rows(db, "case.read"))
    kinds_before = [e.kind for e in await entries(db)]
    user = await _someone(db, school, clock, dispatcher, who)
    real = await _answers(user, case_id)
    missing = await _answers(user, MISSING)
    assert real == missing
    for answer in real:
        for secret in (*SECRETS, "张小明", "周心"):
            assert secret not in answer
    assert len(await audit_rows(db, "case.read")) == reads_before
    assert [e.kind for e in await entries(db)] == kinds_before
    [case] = await cases(db)
    assert case.status is CaseStatus.FOLLOWING


async def test_another_care_worker_reads_the_case_and_may_take_it_over(
    db: Database, school: TestSchool, clock: FakeClock
) -> None:
    dispatcher, case_id = await _worked_case(db, school, clock)
    colleague = await person(db, clock, dispatcher, school.staff["吴悦"])
    await colleague.send(f"/cases {case_id}")
    assert "反映情况：" + NOTICED in colleague.text and "跟进人：周心" in colleague.text
    assert colleague.labels == ["改由我跟进", "查看记录"]
    await colleague.callback(f"!{b.CONTACT}:{case_id}")
    assert "这项操作现在不适用于这个个案。" in colleague.text
    await colleague.press("改由我跟进")
    assert "跟进人：吴悦" in colleague.text and "记录辅导" in colleague.labels


async def test_the_principal_reads_every_case_but_cannot_write_on_one(
    db: Database, school: TestSchool, clock: FakeClock
) -> None:
    dispatcher, case_id = await _worked_case(db, school, clock)
    principal = await person(db, clock, dispatcher, school.staff["高远"])
    await principal.send("/cases")
    assert "全校未结案的个案（共 1 个" in principal.text and "张小明" in principal.text
    await principal.press(f"#{case_id} 三(2)班 张小明")
    assert "帮扶计划（周心，每7天联系一次）" in principal.text
    assert principal.labels == ["查看记录"]
    await principal.press("查看记录")
    assert "评估 · 周心：心理，程度中" in principal.text
    kinds_before = [e.kind for e in await entries(db)]
    for action in (b.TAKE, b.ASSESS, b.PLAN, b.CONTACT, b.SUMMARY, b.CLOSE):
        await principal.callback(f"!{action}:{case_id}")
        assert "帮扶计划" not in principal.labels
    assert [e.kind for e in await entries(db)] == kinds_before
    [case] = await cases(db)
    assert case.worker_id == school.staff["周心"].id
    reads = await audit_rows(db, "case.read")
    principal_id = school.staff["高远"].id
    assert [r.detail for r in reads if r.actor == f"staff:{principal_id}"] == [
        "card",
        "chronology",
    ]
    assert kinds_before[-1] is CareEntryKind.PLANNED


async def test_the_care_room_message_opens_the_case_only_for_care_staff(
    db: Database, school: TestSchool, clock: FakeClock
) -> None:
    dispatcher, case_id = await _worked_case(db, school, clock)
    teacher = await chat_as(db, clock, school.staff["王芳"], dispatcher)
    await teacher.send("/cases")
    assert "关爱室个案只有关爱室老师和校长可以查看。" in teacher.text
    await teacher.send(f"/cases {case_id}")
    assert "张小明" not in teacher.text


async def test_nothing_of_a_case_reaches_the_digest_the_ledger_any_message_or_the_log(
    db: Database, school: TestSchool, clock: FakeClock, private_log: io.StringIO
) -> None:
    dispatcher, case_id = await _worked_case(db, school, clock)
    admin = await chat_as(db, clock, school.staff["赵敏"], dispatcher)
    await run_at(db, school.school, DAILY_DIGEST.func, local("2026-11-17 07:30"))
    await run_at(db, school.school, CARE_REMINDERS.func, local("2026-11-23 08:00"))
    await admin.send("/digest")
    await admin.send("/ledger")
    sent = [reply_of(row).text for row in await outbox(db)]
    assert any("张小明" in text for text in sent)  # the care room's own messages name him
    for text in [*sent, admin.text, private_log.getvalue()]:
        for secret in SECRETS:
            assert secret not in text
    async with db.session() as session:
        assert (await session.exec(select(LedgerItem))).all() == []
    assert f"case:{case_id}" not in private_log.getvalue()
