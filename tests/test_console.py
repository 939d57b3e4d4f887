"""The console channel driven with scripted input: numbered choices, switching person, outbox."""

from __future__ import annotations

import io
from zoneinfo import ZoneInfo

import pytest
from pydantic import BaseModel

from bot.channels.console import ConsoleChannel, render
from bot.demo import seed_demo
from bot.runner import run_console
from bot.settings import Settings
from handlers.actions import Action, action_button
from handlers.context import Context
from handlers.dispatcher import Dispatcher
from handlers.flow import Flow
from handlers.types import Button, Inbound, Reply, Transition
from models.accounts.tables import PersonKind
from models.db.engine import Database
from models.roster.queries import accounts_of, staff_with_role
from models.roster.tables import StaffRole
from tests.helpers.clock import FakeClock
from tests.helpers.factories import seed_school

SCHOOL = "示范小学"
FORMS = {"home": "上门家访", "parent_came": "家长来访"}


class PickDraft(BaseModel):
    form: str = ""


async def _start(inbound: Inbound, draft: PickDraft, ctx: Context, args: str) -> Transition:
    buttons = [Button(label, f"form:{key}") for key, label in FORMS.items()]
    return Transition.to("form", Reply.with_buttons("请选择家访形式：", [buttons]))


async def _form(inbound: Inbound, draft: PickDraft, ctx: Context) -> Transition:
    """Records the choice and alerts every admin, as a flagged problem would."""
    if inbound.callback is None:
        return Transition.to("form", Reply("请输入选项前的数字。"))
    label = FORMS[inbound.callback.removeprefix("form:")]
    admins = await staff_with_role(
        session=ctx.session, school_id=ctx.school.id or 0, role=StaffRole.ADMIN
    )
    for account in await accounts_of(
        session=ctx.session, kind=PersonKind.STAFF, person_ids=[a.id or 0 for a in admins]
    ):
        await ctx.notify(
            key=f"test-alert:{account.id}",
            kind="alert",
            account=account,
            reply=Reply(f"需要学校处理：{label}"),
        )
    return Transition.end(Reply(f"已记录：{label}"))


PICK_FLOW = Flow(
    name="visit",
    draft_type=PickDraft,
    steps={"form": _form},
    start=_start,
    commands=("visit",),
    allowed=lambda ctx: ctx.staff is not None,
)


async def _chat(db: Database, clock: FakeClock, script: str) -> str:
    dispatcher = Dispatcher(
        db, [PICK_FLOW], zone=ZoneInfo("Asia/Shanghai"), school_name=SCHOOL, clock=clock
    )
    out = io.StringIO()
    await ConsoleChannel(dispatcher, stdin=io.StringIO(script), stdout=out).run()
    return out.getvalue()


async def _run_console(db: Database, clock: FakeClock, script: str) -> str:
    """The runner's console (the registry's flows and actions) on `db`, fed `script`."""
    settings = Settings(database_url=db.url, school_name=SCHOOL, _env_file=None)
    out = io.StringIO()
    assert await run_console(settings, stdin=io.StringIO(script), stdout=out, clock=clock) == 0
    return out.getvalue()


@pytest.mark.parametrize(
    ("reply", "shown"),
    [
        (Reply("你好"), "你好"),
        (
            Reply.with_buttons("形式？", [[Button("上门家访", "a"), Button("家长来访", "b")]]),
            "形式？\n  1) 上门家访   2) 家长来访",
        ),
        (
            Reply.with_buttons(
                "选？", [[Button("甲", "a")], [Button("乙", "b"), Button("丙", "c")]]
            ),
            "选？\n  1) 甲\n  2) 乙   3) 丙",
        ),
    ],
)
def test_buttons_are_numbered_across_rows_in_reading_order(reply: Reply, shown: str) -> None:
    assert render(reply) == shown


async def test_the_console_plays_the_head_teacher_of_class_three_two_by_default(
    db: Database, clock: FakeClock
) -> None:
    await seed_demo(db, school_name=SCHOOL, now=clock())
    output = await _chat(db, clock, "/whoami\n")
    assert "您现在是 王芳（教职工，工号 T02）" in output
    assert "王芳老师，您好！" in output


async def test_a_visit_goes_through_numbered_choices(db: Database, clock: FakeClock) -> None:
    await seed_demo(db, school_name=SCHOOL, now=clock())
    output = await _chat(db, clock, "/visit\n2\n")
    assert "请选择家访形式：\n  1) 上门家访   2) 家长来访" in output
    assert "（已选：家长来访）\n已记录：家长来访" in output


async def test_as_switches_to_the_admin(db: Database, clock: FakeClock) -> None:
    await seed_demo(db, school_name=SCHOOL, now=clock())
    output = await _chat(db, clock, "/as A01\n/whoami\n")
    assert "赵丽华老师，您好！您已绑定为示范小学的德育处管理员。" in output
    assert "您现在是 赵丽华（教职工，工号 A01）" in output


async def test_as_a_student_number_plays_that_students_first_guardian(
    db: Database, clock: FakeClock
) -> None:
    await seed_demo(db, school_name=SCHOOL, now=clock())
    output = await _chat(db, clock, "/as 20263201\n")
    assert "张小明家长，您好！您已绑定为示范小学三(2)班张小明的家长。" in output


async def test_as_alone_lists_the_principal_the_coachs_team_and_sample_parents(
    db: Database, clock: FakeClock
) -> None:
    await seed_demo(db, school_name=SCHOOL, now=clock())
    output = await _chat(db, clock, "/as\n")
    assert "P01 郑国强（校长）" in output and "C01 林静（关爱室）" in output
    assert "T08 钱进（篮球队教练）" in output
    assert "/as 20263201 — 张秀英（三(2)班张小明的奶奶）" in output


async def test_as_someone_unknown_is_refused_and_the_person_stays(
    db: Database, clock: FakeClock
) -> None:
    await seed_demo(db, school_name=SCHOOL, now=clock())
    output = await _chat(db, clock, "/as 无此人\n/whoami\n")
    assert "没有找到“无此人”" in output
    assert output.rstrip().endswith("您现在是 王芳（教职工，工号 T02）。\n再见！")


async def test_quit_stops_before_the_remaining_lines(db: Database, clock: FakeClock) -> None:
    await seed_demo(db, school_name=SCHOOL, now=clock())
    output = await _chat(db, clock, "/quit\n/as A01\n")
    assert output.rstrip().endswith("再见！")
    assert "赵丽华老师，您好" not in output


async def test_an_outbox_message_is_printed_with_whom_it_is_for(
    db: Database, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("bot.runner.all_flows", lambda: [PICK_FLOW])
    await seed_demo(db, school_name=SCHOOL, now=clock())
    output = await _run_console(db, clock, "/as A01\n/as T02\n/visit\n1\n")
    # Piped input: delivery runs after each line, so the alert follows the line that caused it.
    assert "已记录：上门家访\n[发给 赵丽华] 需要学校处理：上门家访\n" in output


async def test_the_runner_seeds_the_demo_school_into_an_empty_database(
    db: Database, clock: FakeClock
) -> None:
    output = await _run_console(db, clock, "/whoami\n")
    assert "已创建一所示范学校" in output
    assert "您现在是 王芳（教职工，工号 T02）" in output
    assert "校历" not in output  # the demo's calendar is seeded through the import


async def test_the_runner_says_when_the_school_has_no_calendar(
    db: Database, clock: FakeClock
) -> None:
    await seed_school(db)  # a roster imported, nothing else
    settings = Settings(database_url=db.url, school_name="测试小学", _env_file=None)
    out = io.StringIO()
    assert await run_console(settings, stdin=io.StringIO(""), stdout=out, clock=clock) == 0
    assert "注意：本校还没有导入2026-2027学年的校历" in out.getvalue()


# -- typing a number presses a button of the latest message that has any ----------------------


async def _thank(inbound: Inbound, argument: str, ctx: Context) -> list[Reply]:
    return [Reply(f"已收到第 {argument} 号确认。")]


async def _end_with_a_button(
    inbound: Inbound, draft: PickDraft, ctx: Context, args: str
) -> Transition:
    """Ends at once with an action button, and pushes one with two to every admin."""
    admins = await staff_with_role(
        session=ctx.session, school_id=ctx.school.id or 0, role=StaffRole.ADMIN
    )
    for account in await accounts_of(
        session=ctx.session, kind=PersonKind.STAFF, person_ids=[a.id or 0 for a in admins]
    ):
        await ctx.notify(
            key=f"test-approve:{account.id}",
            kind="alert",
            account=account,
            reply=Reply.with_buttons(
                "请审批：",
                [[action_button("批准", "thank", 21), action_button("退回", "thank", 22)]],
            ),
        )
    return Transition.end(
        Reply.with_buttons("已提交。", [[action_button("查看记录", "thank", 11)]])
    )


BUTTON_FLOW = Flow(
    name="submit",
    draft_type=PickDraft,
    steps={},
    start=_end_with_a_button,
    commands=("submit",),
    allowed=lambda ctx: ctx.staff is not None,
)


@pytest.fixture
def button_flows(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("bot.runner.all_flows", lambda: [PICK_FLOW, BUTTON_FLOW])
    monkeypatch.setattr("bot.runner.all_actions", lambda: [Action("thank", _thank)])


@pytest.mark.usefixtures("button_flows")
async def test_a_number_presses_the_button_on_a_flows_last_message(
    db: Database, clock: FakeClock
) -> None:
    await seed_demo(db, school_name=SCHOOL, now=clock())
    output = await _run_console(db, clock, "/submit\n1\n")
    assert "已提交。\n  1) 查看记录\n" in output
    # The admin's approval request came after it, but for someone else: 1 is 查看记录 here.
    assert "（已选：查看记录）\n已收到第 11 号确认。" in output


@pytest.mark.usefixtures("button_flows")
async def test_a_number_presses_a_pushed_messages_button_for_whom_it_was_sent(
    db: Database, clock: FakeClock
) -> None:
    await seed_demo(db, school_name=SCHOOL, now=clock())
    output = await _run_console(db, clock, "/as A01\n/as T02\n/submit\n/as A01\n２\n")
    assert "[发给 赵丽华] 请审批：\n  1) 批准   2) 退回" in output
    assert "（已选：退回）\n已收到第 22 号确认。" in output


@pytest.mark.usefixtures("button_flows")
async def test_a_number_that_matches_no_button_says_so(db: Database, clock: FakeClock) -> None:
    await seed_demo(db, school_name=SCHOOL, now=clock())
    output = await _run_console(db, clock, "/submit\n3\n")
    assert "没有第 3 项。最近一条带按钮的消息可选 1–1。" in output
    assert "已收到" not in output


@pytest.mark.usefixtures("button_flows")
async def test_a_questions_numbers_still_answer_it_and_a_reply_without_buttons_ends_them(
    db: Database, clock: FakeClock
) -> None:
    await seed_demo(db, school_name=SCHOOL, now=clock())
    output = await _run_console(db, clock, "/submit\n/visit\n2\n1\n")
    assert "（已选：家长来访）\n已记录：家长来访" in output
    # 已记录 has no buttons: "1" is plain text again (the help menu), not 查看记录.
    assert "已收到" not in output
