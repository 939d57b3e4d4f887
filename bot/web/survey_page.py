"""The survey page 问卷: what a family on WeCom opens from the school's survey message — the
chat's one-question-a-message `/answer` (`handlers.surveys.answer`) as one form.

`GET /s/{token}` shows every question of the form, the family's saved answers filled in (what
it answered in the chat, or on this page before), with the line saying whether the school sees
who answered what. `POST /s/{token}` checks every answer first — each choice one of its options,
each text at most `ANSWER_LIMIT` characters, every required question answered — and, when one
is wrong, shows the form again as sent with the reason above it, nothing saved; otherwise it
saves them all (one row per family and question, as the chat does; an optional question left
blank is stored as skipped) and submits the sheet, in one transaction. Until the deadline the
link can be opened again to change answers.

**The link.** The token (`bot.web.links`, kind "survey") names the survey and the guardian and is
signed; it expires at the survey's deadline (`LinkSigner.sign_survey`, minted with the survey's
message). Past it, or once the survey is closed: 410 with a polite page. A forged token, one of
another kind, or one naming a survey not sent to the guardian's family: 404, as a dead link.
Without the family's consent: 403, as on the feedback page. As on the other pages, the form
posts back to its own signed address, which is never sent on (`bot.web.security`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiohttp import web
from jinja2 import Template
from multidict import MultiDictProxy
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.web.pages import (
    Answered,
    Refused,
    SignedPage,
    guarded,
    guardian_translator,
    html_answer,
    page_lang,
    page_template,
)
from bot.web.templates.common import STYLE
from bot.web.templates.survey_page import DONE, PAGE
from handlers.i18n import Translator
from handlers.permissions import page_allows
from handlers.surveys.answer_sheet import (
    Sheet,
    SheetClosed,
    SheetNotFound,
    checked_value,
    closed_text,
    intro_lines,
    open_sheet,
    option_label,
)
from handlers.surveys.submitting import submit_sheet
from models.privacy.consent import has_consented
from models.roster.tables import Guardian
from models.school.rules import DEFAULT_RULES, SchoolRules
from models.school.tables import School
from models.surveys.queries import SKIPPED, save_answer
from models.surveys.tables import ANSWER_LIMIT, QuestionKind, SurveyQuestion

_PAGE: Template = page_template(PAGE)
_DONE: Template = page_template(DONE)


@dataclass(frozen=True)
class _Found:
    sheet: Sheet
    school: School | None
    t: Translator


#: What was sent, by question id, as sent (to fill the form in again).
_Sent = dict[int, str]


def _read(form: MultiDictProxy[Any], sheet: Sheet) -> _Sent:
    return {
        q.id or 0: str(form.get(f"q{q.id}") or "").replace("\r\n", "\n") for q in sheet.questions
    }


class SurveyPage(SignedPage):
    """The survey page under `/s/`; `rules` give the low-satisfaction threshold a submission is
    judged by."""

    def __init__(self, *, rules: SchoolRules = DEFAULT_RULES, **page: Any) -> None:
        super().__init__(**page)
        self.rules = rules

    def mount(self, app: web.Application) -> None:
        app.router.add_get("/s/{token}", guarded(self._show))
        app.router.add_post("/s/{token}", guarded(self._send))

    async def _find(self, session: AsyncSession, token: str) -> _Found:
        """The family's sheet the token opens, or `Refused` (404 / 410; 403 before the family
        agreed to the consent wording)."""
        if not page_allows("survey"):  # the permission matrix
            raise Refused(404)
        claim = self.signer.read_survey(token)
        if claim is None:
            raise Refused(404)
        guardian = await session.get(Guardian, claim.guardian_id)
        if guardian is None:
            raise Refused(404)
        t = await guardian_translator(session, claim.guardian_id)
        now = self.now()
        try:
            sheet = await open_sheet(
                session,
                school_id=guardian.school_id,
                survey_id=claim.survey_id,
                guardian_id=claim.guardian_id,
                now=now,
            )
        except SheetNotFound:
            raise Refused(404) from None
        except SheetClosed as closed:
            raise Answered(
                410, t, t._("问卷已截止"), closed_text(t, closed.survey, self.zone)
            ) from None
        if now >= claim.expires_at:
            raise Answered(410, t, t._("问卷已截止"), closed_text(t, sheet.survey, self.zone))
        if not await has_consented(session=session, guardian_id=claim.guardian_id):
            raise Answered(
                403,
                t,
                t._("请先同意"),
                t._(
                    "填写问卷前，请先打开学校发来的通知页面，阅读学校保存孩子信息的说明并点“同意”，"
                    "再打开这个问卷链接。"
                ),
            )
        return _Found(sheet, await session.get(School, guardian.school_id), t)

    # -- GET: the form ------------------------------------------------------------------------

    async def _show(self, request: web.Request) -> web.StreamResponse:
        token = request.match_info["token"]
        async with self.db.session() as session:
            found = await self._find(session, token)
        saved = {
            q.id or 0: value
            for q in found.sheet.questions
            if (value := found.sheet.value(q)) is not None
        }
        status = ""
        if found.sheet.recipient.submitted_at is not None:
            status = found.t._("您已提交过这份问卷。截止前可以修改后再次提交。")
        return html_answer(self._render(found, token, saved, status))

    def _render(self, found: _Found, token: str, sent: _Sent, status: str) -> str:
        t = found.t
        _ = t._
        sheet = found.sheet
        return _PAGE.render(
            lang=page_lang(t),
            style=STYLE,
            token=token,
            page_title=_("问卷"),
            school=found.school.name if found.school is not None else "",
            heading=sheet.form.name,
            intro=intro_lines(t, sheet, self.zone),
            status=status,
            questions=[_question(t, sheet, q, sent.get(q.id or 0, "")) for q in sheet.questions],
            limit=ANSWER_LIMIT,
            send_label=_("提交"),
        )

    # -- POST: 提交 ------------------------------------------------------------------------------

    async def _send(self, request: web.Request) -> web.StreamResponse:
        token = request.match_info["token"]
        posted = await request.post()
        now = self.now()
        async with self.db.session() as session:
            found = await self._find(session, token)
            sheet = found.sheet
            sent = _read(posted, sheet)
            values = _values(found.t, sheet, sent)
            if isinstance(values, str):
                return html_answer(self._render(found, token, sent, values), 400)
            for question in sheet.questions:
                await save_answer(
                    session,
                    sheet.recipient,
                    question,
                    values[question.id or 0],
                    anonymous=sheet.form.anonymous,
                    now=now,
                )
            queued = await submit_sheet(
                session,
                sheet.recipient,
                school_id=sheet.survey.school_id,
                now=now,
                zone=self.zone,
                rules=self.rules,
            )
        if queued and self.on_outbox is not None:
            self.on_outbox()
        t = found.t
        return html_answer(
            _DONE.render(
                lang=page_lang(t),
                style=STYLE,
                page_title=t._("问卷"),
                school=found.school.name if found.school is not None else "",
                heading=t._("已提交"),
                lines=[
                    t._("问卷已提交，谢谢您的参与！"),
                    t._("截止前可以再次打开这个链接修改您的回答。"),
                ],
            )
        )


def _question(t: Translator, sheet: Sheet, question: SurveyQuestion, value: str) -> dict[str, Any]:
    _ = t._
    legend = f"{sheet.number(question)}. {question.prompt}"
    if not question.required:
        legend += _("（选填）")
    return {
        "id": question.id,
        "legend": legend,
        "required": question.required,
        "text": question.kind is QuestionKind.TEXT,
        "value": value,
        "choices": [
            {"value": v, "label": option_label(t, question, v), "checked": v == value}
            for v in question.option_list()
        ],
    }


def _values(t: Translator, sheet: Sheet, sent: _Sent) -> dict[int, str] | str:
    """The value to store for every question, or what is missing or wrong (translated)."""
    _ = t._
    values: dict[int, str] = {}
    for question in sheet.questions:
        raw = sent.get(question.id or 0, "").strip()
        number = sheet.number(question)
        if not raw:
            if question.required:
                return _("第 {n} 题必须回答，请补上后再提交。").format(n=number)
            values[question.id or 0] = SKIPPED
            continue
        value = checked_value(question, raw)
        if value is None:
            if question.kind is QuestionKind.TEXT:
                return _("第 {n} 题最多 {limit} 字，请精简后再提交。").format(
                    n=number, limit=ANSWER_LIMIT
                )
            return _("第 {n} 题的回答无效，请重新选择。").format(n=number)
        values[question.id or 0] = value
    return values
