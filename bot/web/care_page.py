"""The care page 关爱室求助: what a parent on WeCom opens from the family's receipt page to ask
the school's care room for help for one of their children — the chat's `/care` in one form.

`GET /c/{token}` shows the form: which child (a choice among the guardian's active children; one
child is shown, with no choice), what they want help with (at most 1,000 characters, with the
chat's line saying who can read it) and 提交. `POST /c/{token}` does what the chat's 提交 does,
through the same `handlers.care.request.request_help` — the same case (intake 家长反映, the
child, the guardian, status 已受理, audited), the care room told the same way (waiting for the
end of quiet hours), one transaction — after the same checks (`text_problem`), and answers with
the chat's received words. `/care` has no flood limit, and neither has the page. A bad answer
(no child chosen, a child not theirs, no text, too long) shows the form again, filled in as sent,
with the reason above it; nothing is stored.

**The link and the form's protection.** The token (`bot.web.links`, kind "care") names the school
and the guardian and is signed; the receipt page mints it (valid for `CARE_LINK_DAYS`) when it
shows the family's notice. As on the feedback page, the form posts back to its own signed
address: another site cannot forge the POST without the token, which is never sent on (no
referrer, nothing cached, `form-action 'self'`; `bot.web.security`). Like every guardian feature,
the form waits for the family's 同意 to the consent wording (403 until then).

**No redirect after POST**, as on the feedback page: the page answers the POST itself. A reload
asks the browser to send the form again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aiohttp import web
from jinja2 import Template
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.web.links import CareClaim
from bot.web.pages import (
    PARENT_CHANNEL,
    Answered,
    Refused,
    SignedPage,
    guarded,
    guardian_translator,
    html_answer,
    message_answer,
    page_lang,
    page_template,
)
from bot.web.templates.care_page import DONE, PAGE
from bot.web.templates.common import STYLE
from handlers.care.request import RECEIVED, request_help, text_problem
from handlers.context import Context
from handlers.i18n import Translator, translator
from handlers.parent_messages.common import child_label
from handlers.permissions import page_allows
from models.care.rules import NOTICED_LIMIT
from models.db.update_tx import UpdateTx
from models.notices.publishing import Child
from models.parents.queries import children_with_relation
from models.privacy.consent import has_consented
from models.roster.tables import Guardian
from models.school.rules import DEFAULT_RULES, SchoolRules
from models.school.tables import School

_PAGE: Template = page_template(PAGE)
_DONE: Template = page_template(DONE)


@dataclass(frozen=True)
class _Found:
    claim: CareClaim
    guardian: Guardian
    school: School
    children: list[Child]
    t: Translator


class CarePage(SignedPage):
    """The care page under `/c/`; `rules` give the school's quiet hours (when the care room is
    told); `on_outbox` is called after a request queued messages for the care room."""

    def __init__(self, *, rules: SchoolRules = DEFAULT_RULES, **page: Any) -> None:
        super().__init__(**page)
        self.rules = rules

    def mount(self, app: web.Application) -> None:
        app.router.add_get("/c/{token}", guarded(self._show))
        app.router.add_post("/c/{token}", guarded(self._send))

    async def _find(self, session: AsyncSession, token: str) -> _Found:
        """The guardian the token names, in its school, with their active children, or
        `Refused` (404 / 410; 403 before the family agreed to the consent wording)."""
        if not page_allows("care"):  # the permission matrix
            raise Refused(404)
        claim = self.signer.read_care(token)
        if claim is None:
            raise Refused(404)
        if self.now() >= claim.expires_at:
            zh = translator("zh")
            raise Answered(
                410,
                zh,
                zh._("链接已过期"),
                zh._("这个关爱室求助链接已经失效。请从学校发来的通知页面重新打开“关爱室求助”。"),
            )
        guardian = await session.get(Guardian, claim.guardian_id)
        school = await session.get(School, claim.school_id)
        if guardian is None or school is None or guardian.school_id != claim.school_id:
            raise Refused(404)
        t = await guardian_translator(session, claim.guardian_id)
        if not await has_consented(session=session, guardian_id=claim.guardian_id):
            raise Answered(
                403,
                t,
                t._("请先同意"),
                t._(
                    "向关爱室求助前，请先打开学校发来的通知页面，阅读学校保存孩子信息的说明并点“同意”，"
                    "再从页面底部打开“关爱室求助”。"
                ),
            )
        children = await children_with_relation(session=session, guardian_id=claim.guardian_id)
        return _Found(claim, guardian, school, children, t)

    def _context(self, session: AsyncSession, found: _Found, now: datetime) -> Context:
        """The guardian's request as the chat's steps see it, in this page's transaction."""
        return Context(
            tx=UpdateTx(session),
            now=now,
            school=found.school,
            zone=self.zone,
            t=found.t,
            channel=PARENT_CHANNEL,
            guardian=found.guardian,
            rules=self.rules,
        )

    # -- GET: the form ------------------------------------------------------------------------

    async def _show(self, request: web.Request) -> web.StreamResponse:
        token = request.match_info["token"]
        async with self.db.session() as session:
            found = await self._find(session, token)
        if not found.children:
            return _no_children(found.t, 200)
        return html_answer(self._render(found, token, "", "", ""))

    def _render(self, found: _Found, token: str, wanted: str, text: str, status: str) -> str:
        _ = found.t._
        several = len(found.children) > 1
        return _PAGE.render(
            lang=page_lang(found.t),
            style=STYLE,
            token=token,
            page_title=_("关爱室求助"),
            school=found.school.name,
            heading=_("关爱室求助"),
            intro=_(
                "请写下您希望关爱室帮助的事情（不超过 {limit} 字）。内容保密，只有关爱室老师和校长能看到。"
            ).format(limit=NOTICED_LIMIT),
            status=status,
            child_prompt=_("您想为哪个孩子向关爱室求助？"),
            children=[
                {
                    "value": str(c.student.id),
                    "label": child_label(c),
                    "checked": str(c.student.id) == wanted,
                }
                for c in found.children
            ]
            if several
            else [],
            only_child=_("孩子：{value}").format(value=child_label(found.children[0])),
            text_prompt=_("您希望关爱室帮助的事情"),
            text=text,
            limit=NOTICED_LIMIT,
            send_label=_("提交"),
        )

    # -- POST: 提交 ------------------------------------------------------------------------------

    async def _send(self, request: web.Request) -> web.StreamResponse:
        token = request.match_info["token"]
        form = await request.post()
        sent = str(form.get("text") or "").replace("\r\n", "\n")
        text = sent.strip()
        wanted = str(form.get("child") or "")
        now = self.now()
        async with self.db.session() as session:
            found = await self._find(session, token)
            if not found.children:
                return _no_children(found.t, 400)
            ctx = self._context(session, found, now)
            child = _chosen(found.children, wanted)
            problem = (
                found.t._("请选择您想为哪个孩子向关爱室求助。")
                if child is None
                else text_problem(ctx, text)
            )
            if child is None or problem is not None:
                return html_answer(self._render(found, token, wanted, sent, problem or ""), 400)
            await request_help(ctx, child, text)
        if ctx.queued and self.on_outbox is not None:
            self.on_outbox()
        t = found.t
        return html_answer(
            _DONE.render(
                lang=page_lang(t),
                style=STYLE,
                page_title=t._("关爱室求助"),
                school=found.school.name,
                heading=t._("已提交"),
                lines=[t._(RECEIVED)],
            )
        )


def _chosen(children: list[Child], wanted: str) -> Child | None:
    """The child the form names (one of the guardian's own), the only child when it names
    none, or None."""
    if wanted:
        return next((c for c in children if str(c.student.id) == wanted), None)
    return children[0] if len(children) == 1 else None


def _no_children(t: Translator, status: int) -> web.Response:
    return message_answer(
        t, status, t._("关爱室求助"), t._("名册中没有找到您的孩子，请联系班主任。")
    )
