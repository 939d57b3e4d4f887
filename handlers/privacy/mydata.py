"""`/mydata` (我的数据): what the school holds about a guardian's children, as far as a guardian
may see it (`models.privacy.mydata`), and 申请更正 — a request to correct it, which becomes a
ledger item (`LedgerSource.CORRECTION`) for 德育处 to follow up.

Each read is audited, one entry per child. 申请更正 is an action button per child
(`!mycorr:STUDENT`): the handler checks the child is the guardian's, then asks what is wrong
(the `mydata_correct` conversation, one state `text`).
"""

from __future__ import annotations

from pydantic import BaseModel

from handlers.actions import Action, action_button, record_id
from handlers.context import Context
from handlers.duty_notices import format_day as format_full_day
from handlers.flow import Flow, is_guardian
from handlers.i18n import N_, Translator
from handlers.notice.converse import begin, refused_text
from handlers.notice.render import format_moment
from handlers.types import Inbound, Reply, Transition
from models.audit.tables import audit
from models.feedback.tables import FEEDBACK_KIND_LABELS
from models.ledger.queries import record_item
from models.ledger.tables import LedgerSource
from models.privacy.mydata import ChildData, GuardianData, audit_read, guardian_data
from models.roster.queries import children_of
from models.visits.tables import FORM_LABELS

MYDATA_FLOW = "mydata"
CORRECT_FLOW = "mydata_correct"
#: The correction's one state: what is wrong.
TEXT = "text"
#: The 申请更正 button's action.
CORRECT = "mycorr"
#: The longest correction request.
CORRECTION_LIMIT = 500
#: Feedback texts are shown up to this many characters.
FEEDBACK_PREVIEW = 40


def _child_text(t: Translator, child: ChildData, ctx: Context) -> str:
    _ = t._
    lines = [
        _("【{name}】{klass}，学号 {number}").format(
            name=child.name, klass=child.class_name, number=child.student_no
        )
    ]
    listed = [
        _("{name}（{relation}，{phone}）").format(
            name=g.name, relation=g.relation or _("家长"), phone=g.phone
        )
        for g in child.guardians
    ]
    lines.append(_("登记的家长：{guardians}").format(guardians=_("、").join(listed)))
    if child.visits:
        visits = [
            _("{day} {form}").format(day=format_full_day(t, v.day), form=_(FORM_LABELS[v.form]))
            for v in child.visits
        ]
        lines.append(
            _("家访记录 {count} 次：{visits}").format(
                count=len(child.visits), visits=_("；").join(visits)
            )
        )
    else:
        lines.append(_("家访记录：暂无"))
    if child.notices:
        lines.append(_("收到的通知 {count} 条：").format(count=len(child.notices)))
        for notice in child.notices:
            if not notice.receipt_required:
                state = _("无需回执")
            elif notice.confirmed_at is not None:
                state = _("已于 {moment} 确认收到").format(
                    moment=format_moment(t, notice.confirmed_at, ctx.zone)
                )
            else:
                state = _("未确认")
            lines.append(
                _("· 《{title}》{number}：{state}").format(
                    title=notice.title, number=notice.number, state=state
                )
            )
    else:
        lines.append(_("收到的通知：暂无"))
    return "\n".join(lines)


def render(ctx: Context, data: GuardianData) -> Reply:
    _ = ctx.t._
    parts = [_("学校保存的您孩子的信息如下（家访只列日期和方式）：")]
    parts += [_child_text(ctx.t, child, ctx) for child in data.children]
    if data.feedback:
        lines = [_("您提交的意见 {count} 条：").format(count=len(data.feedback))]
        for item in data.feedback:
            text = item.text
            if len(text) > FEEDBACK_PREVIEW:
                text = text[:FEEDBACK_PREVIEW] + "…"
            lines.append(
                _("· {day} {kind}（编号 {code}）：{text}").format(
                    day=format_full_day(ctx.t, item.created_at.astimezone(ctx.zone).date()),
                    kind=_(FEEDBACK_KIND_LABELS[item.kind]),
                    code=item.code,
                    text=text,
                )
            )
        parts.append("\n".join(lines))
    parts.append(_("发现有误？点下面的“申请更正”，告诉我们哪里不对，德育处会核实后更正。"))
    buttons = [
        [action_button(_("申请更正（{name}）").format(name=child.name), CORRECT, child.student_id)]
        for child in data.children
    ]
    return Reply.with_buttons("\n\n".join(parts), buttons)


class MydataDraft(BaseModel):
    """`/mydata` answers at once."""


async def show(inbound: Inbound, draft: MydataDraft, ctx: Context, args: str) -> Transition:
    guardian = ctx.guardian
    if guardian is None or guardian.id is None:
        return Transition.end(Reply(ctx.t._("这项功能只对家长开放。")))
    data = await guardian_data(session=ctx.session, guardian=guardian)
    if not data.children:
        return Transition.end(Reply(ctx.t._("名册中没有登记在校的孩子。")))
    await audit_read(session=ctx.session, guardian_id=guardian.id, data=data)
    return Transition.end(render(ctx, data))


MYDATA_FLOW_DEF = Flow(
    name=MYDATA_FLOW,
    draft_type=MydataDraft,
    steps={},
    start=show,
    commands=("mydata", "我的数据"),
    allowed=is_guardian,
    refusal=N_("这项功能只对家长开放。"),
    describe=N_("查看学校保存的孩子信息，发现有误可申请更正"),
    read_only=True,
)


# -- 申请更正 -----------------------------------------------------------------------------------


class CorrectionDraft(BaseModel):
    student_id: int = 0


async def _own_child(ctx: Context, student_id: int | None) -> tuple[int, str, int] | None:
    """(student id, name, class id) when the student is the guardian's child."""
    if ctx.guardian is None or student_id is None:
        return None
    for student, klass in await children_of(session=ctx.session, guardian=ctx.guardian):
        if student.id == student_id:
            return student_id, student.name, klass.id or 0
    return None


async def start_correction(inbound: Inbound, argument: str, ctx: Context) -> list[Reply]:
    child = await _own_child(ctx, record_id(argument))
    if child is None:
        return [Reply(ctx.t._("这个按钮已失效。"))]
    reply = Reply(
        ctx.t._(
            "请写下{name}的哪项信息有误、正确的应该是什么（不超过 {limit} 字）。发送 /cancel 放弃。"
        ).format(name=child[1], limit=CORRECTION_LIMIT)
    )
    draft = CorrectionDraft(student_id=child[0])
    return await begin(inbound, ctx, flow=CORRECT_FLOW, state=TEXT, draft=draft, reply=reply)


async def write_correction(inbound: Inbound, draft: CorrectionDraft, ctx: Context) -> Transition:
    _ = ctx.t._
    text = (inbound.text or "").strip()
    again = _("请用文字写下哪项信息有误；发送 /cancel 放弃。")
    refused = refused_text(inbound, text, ctx, state=TEXT, limit=CORRECTION_LIMIT, again=again)
    if refused is not None:
        return refused
    child = await _own_child(ctx, draft.student_id)
    if child is None or ctx.guardian is None:
        return Transition.end(Reply(_("这个按钮已失效。")))
    student_id, name, class_id = child
    item = await record_item(
        ctx.session,
        school_id=ctx.school.id or 0,
        source=LedgerSource.CORRECTION,
        source_id=None,
        student_id=student_id,
        description=f"家长申请更正{name}的信息：{text}",
        recorded_by=None,
        now=ctx.now,
        class_id=class_id,
    )
    await audit(
        session=ctx.session,
        actor=ctx.actor,
        action="mydata.correct",
        subject=f"ledger:{item.id}",
        student_id=student_id,
    )
    return Transition.end(
        Reply(_("已收到您的更正申请（台账编号 {id}），德育处会核实后处理。").format(id=item.id))
    )


async def _no_start(
    inbound: Inbound, draft: CorrectionDraft, ctx: Context, args: str
) -> Transition:
    return Transition.end(Reply(ctx.t._("请先发送 /mydata，再点“申请更正”。")))


CORRECT_FLOW_DEF = Flow(
    name=CORRECT_FLOW,
    draft_type=CorrectionDraft,
    steps={TEXT: write_correction},
    start=_no_start,
    commands=(),
    allowed=is_guardian,
    refusal=N_("这项功能只对家长开放。"),
)

MYDATA_ACTIONS = [Action(CORRECT, start_correction)]
