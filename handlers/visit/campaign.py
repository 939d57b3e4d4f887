"""A visit while a 大走访 campaign covers the student (seed 003: 确保不漏访，不重复访; 附2).

- *The campaign's questions*: the household form gains the campaign's 附2 fields
  (`models.families.rules.CAMPAIGN_FIELDS`: 家庭结构, 经济状况, 住房条件, 在家照顾, 父亲职业, 母亲职业).
  In the full `/visit` they are asked once, right after the household section (家庭情况), each
  showing what the household's profile holds with 不变, and 结束填写 ends them at once; opened
  from 填写家庭情况表 or 修改 the form is the whole form with them (`EXTENDED_FIELDS`). A
  one-message log does not ask them: its summary card says `大走访：还可补充家庭情况` with a
  补充家庭情况 button, and only while one of the six is still unknown for the household — a
  teacher logging a quick phone call is not made to answer six questions, and is not reminded
  of what the school already knows. Answers are remembered for the household (siblings share
  them, `models.families.queries.remember`).
- *Before saving* (`models.campaigns.queries.visit_cautions`): a visit the campaign counts to a
  household another teacher visited first asks `已由王芳老师于11月3日家访过，仍要记录吗？`
  (仍要记录 / 返回修改, the state `double_visit`); a household assigned to a colleague is told on
  the summary card (`这一家由李强老师包保。`), without stopping anything. The same teacher again
  is a second visit: nothing is asked.

The campaign is the one covering the student on the visit's date (today before a date is given).
"""

from __future__ import annotations

from handlers.context import Context
from handlers.i18n import N_
from handlers.types import Button
from handlers.visit.draft import VisitDraft
from models.campaigns.coverage import Caution
from models.campaigns.queries import campaign_for_student, spec_of, visit_cautions
from models.campaigns.rules import counts_for_campaign
from models.campaigns.tables import Campaign
from models.families.queries import profile_of
from models.families.rules import (
    CAMPAIGN_FIELDS,
    EXTENDED_FIELDS,
    FIELDS,
    SPECS,
    FamilyField,
    FieldSpec,
)

#: The summary's button opening the campaign's questions (a one-message log's).
CAMPAIGN_FORM = "ff:campaign"
#: The caution that stops 保存 (the msgid of `models.campaigns.coverage.cautions`).
DOUBLE = N_("已由{teacher}老师于{month}月{day}日家访过，仍要记录吗？")


async def campaign_of(draft: VisitDraft, ctx: Context) -> Campaign | None:
    """The running campaign covering the draft's student on its visit date (two statements)."""
    if draft.student_id is None:
        return None
    return await campaign_for_student(
        ctx.session, ctx.school.id or 0, draft.student_id, draft.visit_date or ctx.today
    )


def form_fields(draft: VisitDraft) -> tuple[FieldSpec, ...]:
    """The fields the open household form asks, in order."""
    if not draft.family_form_fields:
        return FIELDS
    return tuple(SPECS[FamilyField(name)] for name in draft.family_form_fields)


async def open_form(draft: VisitDraft, ctx: Context, fields: tuple[FieldSpec, ...]) -> None:
    """Open the household form on `fields`, at the first, with what was recorded before."""
    known = await profile_of(session=ctx.session, student_id=draft.student_id or 0)
    draft.family_known = (
        {}
        if known is None
        else {
            spec.field.value: value
            for spec in EXTENDED_FIELDS
            if (value := getattr(known, spec.field.value)) is not None
        }
    )
    draft.family_form_fields = [spec.field.value for spec in fields]
    draft.family_form_open = True
    draft.family_form_at = 0


async def open_household_form(draft: VisitDraft, ctx: Context) -> None:
    """填写家庭情况表 or 修改: the whole form, with the campaign's questions while one covers the
    student (which then are not asked again)."""
    campaign = await campaign_of(draft, ctx)
    if campaign is not None:
        draft.campaign_checked = True
    await open_form(draft, ctx, EXTENDED_FIELDS if campaign is not None else FIELDS)


def campaign_form_due(draft: VisitDraft) -> bool:
    """The full `/visit` has just passed the household section and the campaign was not looked
    for yet."""
    return (
        draft.student_id is not None
        and not draft.quick
        and not draft.campaign_checked
        and not draft.family_form_open
        and draft.family is not None
    )


async def ask_campaign_form(draft: VisitDraft, ctx: Context) -> None:
    """Open the campaign's questions when a campaign covers the student (once per draft)."""
    draft.campaign_checked = True
    if await campaign_of(draft, ctx) is not None:
        await open_form(draft, ctx, CAMPAIGN_FIELDS)


async def open_campaign_form(draft: VisitDraft, ctx: Context) -> bool:
    """补充家庭情况 on the summary: the campaign's questions; False when no campaign covers the
    student any more."""
    if await campaign_of(draft, ctx) is None:
        return False
    draft.campaign_checked = True
    await open_form(draft, ctx, CAMPAIGN_FIELDS)
    return True


async def _cautions(draft: VisitDraft, ctx: Context, campaign: Campaign) -> list[Caution]:
    staff = ctx.staff
    if draft.student_id is None or staff is None or staff.id is None:
        return []
    return await visit_cautions(
        ctx.session, campaign, draft.student_id, staff.id, ctx.rules.home_forms()
    )


async def double_text(draft: VisitDraft, ctx: Context) -> str | None:
    """`已由王芳老师于11月3日家访过，仍要记录吗？` when the visit counts for the campaign and another
    teacher visited the household first in it; None otherwise."""
    if draft.form is None:
        return None
    campaign = await campaign_of(draft, ctx)
    if campaign is None:
        return None
    rule = spec_of(campaign).visit_rule
    if not counts_for_campaign(draft.form.value, rule, ctx.rules.home_forms()):
        return None
    for caution in await _cautions(draft, ctx, campaign):
        if caution.message == DOUBLE:
            return ctx.t._(caution.message).format(**caution.params)
    return None


async def summary_extras(draft: VisitDraft, ctx: Context) -> tuple[list[str], list[Button]]:
    """The summary card's campaign lines (whose household it is; the one-message log's offer of
    the campaign's questions) and the offer's button."""
    campaign = await campaign_of(draft, ctx)
    if campaign is None:
        return [], []
    _ = ctx.t._
    lines = [
        _(caution.message).format(**caution.params)
        for caution in await _cautions(draft, ctx, campaign)
        if caution.message != DOUBLE
    ]
    if draft.campaign_checked or not await _campaign_fields_missing(draft, ctx):
        return lines, []
    lines.append(_("大走访：还可补充家庭情况（家庭结构、经济状况等）。"))
    return lines, [Button(_("补充家庭情况"), CAMPAIGN_FORM)]


async def _campaign_fields_missing(draft: VisitDraft, ctx: Context) -> bool:
    """Whether one of the campaign's questions is unknown for the household (neither on its
    profile nor answered in this draft)."""
    profile = await profile_of(session=ctx.session, student_id=draft.student_id or 0)
    return any(
        spec.field.value not in draft.family_form
        and (profile is None or getattr(profile, spec.field.value) is None)
        for spec in CAMPAIGN_FIELDS
    )
