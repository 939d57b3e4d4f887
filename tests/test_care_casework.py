"""Working a case in the chat, as the care room does over weeks: taking it, assessing it, the
help plan, contacts and stage summaries, closing with the three evaluations; what is refused
(closing without them, a contact dated in the future, a colleague's change in between); and the
audit lines of every read and change."""

from __future__ import annotations

import pytest

from handlers.care import buttons as b
from models.care.handling import CaseChanged, CaseRefused, close, take
from models.care.tables import (
    CareCase,
    CareEntryKind,
    CaseNature,
    CaseSeverity,
    CaseStatus,
)
from models.db.engine import Database
from tests.helpers.care import add_care_staff, audit_rows, cases, entries, refer
from tests.helpers.clock import FakeClock
from tests.helpers.duties import local
from tests.helpers.factories import TestSchool
from tests.helpers.visits import ChatUser, chat_as, full_dispatcher, person


async def _referred_and_taken(
    db: Database, school: TestSchool, clock: FakeClock
) -> tuple[ChatUser, int]:
    care = await add_care_staff(db, school)
    dispatcher = full_dispatcher(db, clock)
    teacher = await chat_as(db, clock, school.staff["王芳"], dispatcher)
    await refer(teacher)
    worker = await person(db, clock, dispatcher, care.worker)
    [case] = await cases(db)
    await worker.send(f"/cases {case.id}")
    await worker.press("接手")
    return worker, case.id or 0


async def test_a_case_is_worked_from_intake_to_closing_over_weeks(
    db: Database, school: TestSchool, clock: FakeClock
) -> None:
    care = await add_care_staff(db, school)
    dispatcher = full_dispatcher(db, clock)
    teacher = await chat_as(db, clock, school.staff["王芳"], dispatcher)
    await refer(teacher)
    worker = await person(db, clock, dispatcher, care.worker)
    await worker.send("/cases")
    assert "您跟进的和待接手的个案（共 1 个" in worker.text
    assert "三(2)班 张小明 · 已受理" in worker.text and "跟进人：（待接手）" in worker.text
    [case] = await cases(db)
    await worker.press(f"#{case.id} 三(2)班 张小明")
    assert f"【关爱室个案 #{case.id}】已受理" in worker.text
    assert "反映情况：最近上课常走神" in worker.text and "来源：教师转介（王芳）" in worker.text
    assert worker.labels == ["接手", "查看记录"]
    await worker.press("接手")
    assert "您已接手这个个案。" in worker.text and "跟进人：周心" in worker.text
    await worker.steps("评估", "心理", "重")
    assert "已保存评估。" in worker.text and "跟进中" in worker.text
    assert "评估：心理，程度重" in worker.text
    await worker.press("帮扶计划")
    await worker.steps(">每周两次个别谈心，教授情绪调节方法", "跳过", ">申请午餐补助")
    await worker.steps(">周心、班主任王芳", "每7天")
    assert "已保存帮扶计划。" in worker.text
    assert "帮扶计划（周心、班主任王芳，每7天联系一次）" in worker.text
    assert "学业帮扶" not in worker.text and "11月23日应联系" in worker.text
    clock.advance(days=2)
    await worker.steps("记录辅导", "就是现在", ">关爱室", ">孩子说父母离异后很少见到妈妈")
    await worker.steps(">倾听，约定每周二谈心，联系妈妈视频通话", ">孩子情绪明显放松")
    assert "已保存辅导记录。" in worker.text and "上次辅导：11月18日 10:00" in worker.text
    assert "11月25日应联系" in worker.text
    clock.advance(days=14)
    await worker.send(f"/cases {case.id}")
    await worker.steps("记录辅导", ">昨天 16:00", ">家中", ">作业完成情况差")
    await worker.steps(">和奶奶商量每天固定写作业时间", ">作业按时交了")
    assert "上次辅导：12月1日 16:00" in worker.text
    await worker.steps("阶段小结", ">情绪稳定，午餐补助已落实，学习有起色")
    assert "已保存阶段小结。" in worker.text
    clock.advance(days=21)
    await worker.send(f"/cases {case.id}")
    await worker.press("结案")
    await worker.steps(">我现在不怎么哭了", ">上课专注，成绩回升", ">孩子在家开朗多了")
    assert "请核对结案评价" in worker.text
    await worker.press("确认结案")
    assert "已结案。" in worker.text and f"【关爱室个案 #{case.id}】已结案" in worker.text
    assert "家长反馈：孩子在家开朗多了" in worker.text
    assert worker.labels == ["查看记录"]
    await worker.press("查看记录")
    chronology = worker.text
    lines = [
        "11月16日 10:00 受理 · 王芳",
        "11月16日 10:00 接手 · 周心",
        "11月16日 10:00 评估 · 周心：心理，程度重",
        "11月16日 10:00 帮扶计划 · 周心：周心、班主任王芳，每7天联系一次",
        "11月18日 10:00 辅导记录 · 周心 · 关爱室",
        "措施：倾听，约定每周二谈心",
        "12月1日 16:00 辅导记录 · 周心 · 家中",
        "12月2日 10:00 阶段小结 · 周心：情绪稳定",
        "12月23日 10:00 结案 · 周心",
    ]
    positions = [chronology.index(line) for line in lines]
    assert positions == sorted(positions)
    [closed] = await cases(db)
    assert (closed.status, closed.nature, closed.severity, closed.plan_every_days) == (
        CaseStatus.CLOSED,
        CaseNature.PSYCHOLOGICAL,
        CaseSeverity.SEVERE,
        7,
    )
    assert closed.closed_at == local("2026-12-23 10:00")
    assert [e.kind for e in await entries(db)] == [
        CareEntryKind.OPENED,
        CareEntryKind.TAKEN,
        CareEntryKind.ASSESSED,
        CareEntryKind.PLANNED,
        CareEntryKind.CONTACT,
        CareEntryKind.CONTACT,
        CareEntryKind.SUMMARY,
        CareEntryKind.CLOSED,
    ]
    await teacher.send("/refer 进展")
    assert "三(2)班 张小明：已结案" in teacher.text and "开朗" not in teacher.text


async def test_every_read_and_change_of_a_case_is_audited_with_the_student(
    db: Database, school: TestSchool, clock: FakeClock
) -> None:
    worker, case_id = await _referred_and_taken(db, school, clock)
    await worker.press("查看记录")
    rows = await audit_rows(db)
    assert [(r.action, r.detail) for r in rows] == [
        ("case.change", "opened referral"),
        ("case.read", "card"),
        ("case.change", "taken"),
        ("case.read", "card"),
        ("case.read", "chronology"),
    ]
    worker_id = worker.user_id.removeprefix("staff-")
    assert {(r.subject, r.student_id) for r in rows} == {
        (f"case:{case_id}", school.students["张小明"].id)
    }
    assert [r.actor for r in rows[1:]] == [f"staff:{worker_id}"] * 4
    assert all("走神" not in r.detail for r in rows)


async def test_nothing_closes_without_the_three_evaluations(
    db: Database, school: TestSchool, clock: FakeClock
) -> None:
    worker, case_id = await _referred_and_taken(db, school, clock)
    await worker.send(f"/cases {case_id}")
    assert "结案" not in worker.labels
    await worker.callback(f"!{b.CLOSE}:{case_id}")
    assert "这项操作现在不适用于这个个案。" in worker.text
    await worker.steps("评估", "家庭", "轻", "结案", ">说家里好多了")
    await worker.send("   ")
    assert "请用文字回答，不能为空" in worker.text and "教师的反馈评价" in worker.text
    await worker.send("/cancel")
    [case] = await cases(db)
    assert case.status is CaseStatus.FOLLOWING and case.eval_student == ""
    async with db.session() as session:
        found = await session.get(CareCase, case_id)
        assert found is not None
        with pytest.raises(CaseRefused, match="家长"):
            await close(
                session,
                found,
                student="好多了",
                teacher="有进步",
                parents=" ",
                by=found.worker_id or 0,
                now=clock(),
            )
    assert (await cases(db))[0].status is CaseStatus.FOLLOWING


async def test_a_contact_dated_in_the_future_is_refused(
    db: Database, school: TestSchool, clock: FakeClock
) -> None:
    worker, _case_id = await _referred_and_taken(db, school, clock)
    await worker.press("记录辅导")
    await worker.send("明天 10:00")
    assert "辅导时间不能晚于现在。" in worker.text
    await worker.send("今天 10:30")
    assert "辅导时间不能晚于现在。" in worker.text
    await worker.send("下周吧")
    assert "没能读懂这个时间" in worker.text
    await worker.send("今天 8:00")
    assert "辅导地点？" in worker.text
    [case] = await cases(db)
    assert case.last_contact_at is None
    assert [e.kind for e in await entries(db)] == [CareEntryKind.OPENED, CareEntryKind.TAKEN]


async def test_a_colleagues_change_in_between_writes_nothing(
    db: Database, school: TestSchool, clock: FakeClock
) -> None:
    await _referred_and_taken(db, school, clock)
    [case] = await cases(db)
    async with db.session() as session:
        colleague = school.staff["吴悦"].id or 0
        await take(session, case, by=colleague, now=clock())
    async with db.session() as session:
        stale = case.model_copy(update={"worker_id": None})
        with pytest.raises(CaseChanged):
            await take(session, stale, by=colleague, now=clock())
    [case] = await cases(db)
    assert case.worker_id == school.staff["吴悦"].id
    kinds = [e.kind for e in await entries(db)]
    assert kinds == [CareEntryKind.OPENED, CareEntryKind.TAKEN, CareEntryKind.TAKEN]
