"""The incident page: what a parent on WeCom opens from an urgent incident message.

`GET /i/{token}` shows the school, a short title (【紧急】张小明在校突发情况), the same factual
message a parent on Telegram receives (`handlers.incident.render.guardian_message`) and one big
已知悉 button — or, once any guardian of the child acknowledged, the acknowledged line.
`POST /i/{token}/ack` records it through the same code as the Telegram button
(`handlers.incident.actions.acknowledge_for_guardian`: the first 已知悉 is recorded and the head
teacher and the reporter are told once) and redirects back to the page (POST-redirect-GET).

The token (`bot.web.links`, kind "incident") names the incident and the guardian; a notice link
does not open it, nor it the receipt page. It works for seven days after the incident was
reported. It opens only an incident about a child of that guardian, in the guardian's school.
Each POST is one transaction; `on_outbox` is called after it committed. Answers, headers and
polite 404 / 410 pages are the receipt page's (`bot.web.receipt_page`), which registers this page.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from aiohttp import web
from jinja2 import Template
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.web.links import IncidentClaim
from bot.web.pages import (
    Answered,
    Refused,
    SignedPage,
    back_to_page,
    guarded,
    guardian_translator,
    html_answer,
    page_lang,
    page_template,
)
from bot.web.templates.common import STYLE
from bot.web.templates.incident_page import PAGE
from handlers.i18n import Translator, translator
from handlers.incident.actions import acknowledge_for_guardian
from handlers.incident.render import acknowledged_line, guardian_message
from handlers.permissions import page_allows
from models.incidents.queries import IncidentView, incident_view, is_guardian_of
from models.roster.tables import Guardian, Staff
from models.school.tables import School

#: Characters of the message shown under the title of the WeCom link card.
DESCRIPTION_LENGTH = 80

_PAGE: Template = page_template(PAGE)
#: The family's message may begin with a 【…】 header; runs of spaces and line breaks.
_HEADER = re.compile(r"^\s*【[^】]*】")
_SPACES = re.compile(r"\s+")


def incident_title(t: Translator, view: IncidentView) -> str:
    """`【紧急】张小明在校突发情况`: the page's heading and the WeCom card's title."""
    return t._("【紧急】{student}在校突发情况").format(student=view.student.name)


def incident_description(text: str, limit: int = DESCRIPTION_LENGTH) -> str:
    """A short start of the family's message, without its leading 【…】 header."""
    flat = _SPACES.sub(" ", _HEADER.sub("", text)).strip()
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


@dataclass(frozen=True)
class _Found:
    claim: IncidentClaim
    view: IncidentView
    guardian: Guardian
    school: School | None
    t: Translator


class IncidentPage(SignedPage):
    """The incident page under `/i/`; `on_outbox` is called after an acknowledgement queued
    messages for staff."""

    def mount(self, app: web.Application) -> None:
        app.router.add_get("/i/{token}", guarded(self._show))
        app.router.add_post("/i/{token}/ack", guarded(self._acknowledge))

    async def _find(self, session: AsyncSession, token: str, now: datetime) -> _Found:
        """The incident about a child of the token's guardian, or `Refused` (404 / 410)."""
        if not page_allows("incident"):  # the permission matrix
            raise Refused(404)
        claim = self.signer.read_incident(token)
        if claim is None:
            raise Refused(404)
        if now >= claim.expires_at:
            zh = translator("zh")
            raise Answered(
                410,
                zh,
                zh._("链接已过期"),
                zh._("这个链接已超过 7 天，已经失效。如需了解孩子的情况，请联系班主任。"),
            )
        guardian = await session.get(Guardian, claim.guardian_id)
        if guardian is None:
            raise Refused(404)
        view = await incident_view(
            session=session, school_id=guardian.school_id, incident_id=claim.incident_id
        )
        if view is None or not await is_guardian_of(
            session=session, guardian_id=claim.guardian_id, student_id=view.incident.student_id
        ):
            raise Refused(404)
        school = await session.get(School, guardian.school_id)
        t = await guardian_translator(session, claim.guardian_id)
        return _Found(claim, view, guardian, school, t)

    # -- GET: the page ------------------------------------------------------------------------

    async def _show(self, request: web.Request) -> web.StreamResponse:
        token = request.match_info["token"]
        async with self.db.session() as session:
            found = await self._find(session, token, self.now())
            head_id = found.view.head_teacher_id
            head = await session.get(Staff, head_id) if head_id is not None else None
        status = self._status(found, request.query.get("s", ""))
        return html_answer(self._render(found, token, head.name if head else None, status))

    def _render(self, found: _Found, token: str, head: str | None, status: str) -> str:
        t, view = found.t, found.view
        incident = view.incident
        acknowledged = ""
        if incident.acknowledged_at is not None:
            by_you = incident.acknowledged_by == found.guardian.id
            acknowledged = acknowledged_line(t, incident.acknowledged_at, self.zone, by_you=by_you)
        title = incident_title(t, view)
        return _PAGE.render(
            lang=page_lang(t),
            style=STYLE,
            token=token,
            page_title=title,
            school=found.school.name if found.school is not None else "",
            title=title,
            message=guardian_message(t, view, self.zone, head, can_reply=False),
            status=status,
            acknowledged=acknowledged,
            ack_label=t._("已知悉"),
        )

    @staticmethod
    def _status(found: _Found, code: str) -> str:
        _ = found.t._
        if code == "ok":
            return _("学校老师已收到您的确认。")
        if code == "again":
            return _("您已经确认过了，无需再次确认。")
        return ""

    # -- POST: 已知悉 ---------------------------------------------------------------------------

    async def _acknowledge(self, request: web.Request) -> web.StreamResponse:
        token = request.match_info["token"]
        now = self.now()
        async with self.db.session() as session:
            found = await self._find(session, token, now)
            done = await acknowledge_for_guardian(
                session=session,
                school_id=found.guardian.school_id,
                incident_id=found.view.incident.id or 0,
                guardian=found.guardian,
                now=now,
                zone=self.zone,
            )
            if done is None:
                raise Refused(404)
            incident = done.view.incident
        if done.queued and self.on_outbox is not None:
            self.on_outbox()
        if done.recorded:
            return back_to_page(token, "ok")
        return back_to_page(token, "again" if incident.acknowledged_by == found.guardian.id else "")
