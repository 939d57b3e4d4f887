"""The receipt page: what a parent opens from a WeCom school notice (no login, one small page).

`GET /n/{token}` shows the notice as that guardian received it — school, 文号 and title, body,
their children, the deadline, its attachments (downloaded from `GET /n/{token}/a/{id}`,
`bot.web.attachments`) — with 确认收到 (or "✓ 已确认收到（time）"), and for fee and outing
notices a 有疑问 form. `POST /n/{token}/confirm` and `POST /n/{token}/question` act and redirect
back to the page with a status line (POST-redirect-GET: reloading never acts twice).

The token (`bot.web.links`) names the notice and the guardian and is signed, so it opens only that
family's copy; it expires with the notice's display window, and an archived notice is closed
too. Confirming records the receipt exactly as the Telegram button does
(`models.notices.receipts.confirm_receipt`, channel "wecom-parent"). A meeting's notice
(`NoticeKind.MEETING`) shows 确认参加 / 不能参加 instead (`POST /n/{token}/attend`, `/decline`):
either answer is the family's receipt, recorded with the answer as the chat's buttons record it;
once answered the page offers the other answer, for a family whose plans changed. A question goes through the same
`handlers.notice.receipt.forward_question` as the Telegram flow, after the same flood limits
(`handlers.notice.limits`: `RULES__QUESTIONS_PER_NOTICE`, `RULES__MESSAGES_TO_STAFF_PER_HOUR`,
counting the guardian's questions on every channel; a repeat is not forwarded twice). Each POST is
one transaction.

A family that has not agreed to the consent wording (`handlers.privacy.consent`) first sees that
wording with a 同意 form (`POST /n/{token}/consent`, recorded with channel "page" and audited)
instead of the notice; 确认收到 and 有疑问 do nothing until then.

The page ends with a 意见反馈 link to the family's feedback page (`bot.web.feedback_page`) and a
关爱室求助 link to their care page (`bot.web.care_page`), each signed for the guardian and valid
for a day from when the page was shown.

What it shares with the incident page (`bot.web.incident_page`, `/i/…`) is in `bot.web.pages`;
`bot.web.routes.add_parent_pages` mounts both. A bad link gets a polite page (404 unknown or forged, 410 expired), never a
stack trace. Every answer says `Cache-Control: no-store`, `Referrer-Policy: no-referrer`,
`X-Robots-Tag: noindex`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from aiohttp import web
from jinja2 import Template
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.web.attachments import (
    MAX_ATTACHMENT_BYTES,
    FileSource,
    content_type_of,
    download_answer,
    servable,
)
from bot.web.links import CARE_LINK_DAYS, FEEDBACK_LINK_DAYS, LinkClaim
from bot.web.pages import (
    PARENT_CHANNEL,
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
from bot.web.templates.receipt_page import CONSENT_PAGE, PAGE
from handlers.i18n import Translator
from handlers.notice.limits import (
    check_message_to_staff,
    check_question,
    question_refusal,
    record_refusal,
)
from handlers.notice.receipt import QUESTION_LIMIT, all_confirmed, forward_question
from handlers.notice.render import (
    attachment_name_and_size,
    attachment_names,
    children_names,
    format_moment,
    kind_name,
    receipt_done_line,
)
from handlers.permissions import page_allows
from handlers.privacy.consent import wording_lines
from models.accounts.tables import PersonKind
from models.limits.rules import Refusal, Verdict
from models.notices.queries import attachments_of
from models.notices.receipts import ChildReceipt, confirm_receipt, receipts_of_guardian
from models.notices.tables import (
    QUESTION_KINDS,
    Notice,
    NoticeAttachment,
    NoticeKind,
    NoticeStatus,
    ReceiptAnswer,
)
from models.privacy.consent import AGREE_WORD, has_consented, record_consent
from models.school.rules import DEFAULT_RULES, SchoolRules
from models.school.tables import School

log = logging.getLogger(__name__)

_PAGE: Template = page_template(PAGE)
_CONSENT: Template = page_template(CONSENT_PAGE)
#: The channel a consent given on the page is recorded with.
CONSENT_CHANNEL = "page"


# -- what a token opens -----------------------------------------------------------------------


@dataclass(frozen=True)
class _Found:
    claim: LinkClaim
    notice: Notice
    school: School | None
    children: list[ChildReceipt]
    t: Translator


@dataclass(frozen=True)
class _Status:
    text: str
    warn: bool = False


class ReceiptPage(SignedPage):
    """The receipt page under `/n/`; `on_outbox` is called after a question queued messages for
    staff (e.g. `DeliveryWorker.wake`); `rules` give the flood limits; `files` fetches
    attachments from the channels they were sent on (without it, parents are told to ask the
    head teacher for them)."""

    def __init__(
        self, *, rules: SchoolRules = DEFAULT_RULES, files: FileSource | None = None, **page: Any
    ) -> None:
        super().__init__(**page)
        self.rules = rules
        self.files = files

    def mount(self, app: web.Application) -> None:
        app.router.add_get("/n/{token}", guarded(self._show))
        app.router.add_get("/n/{token}/a/{attachment}", guarded(self._attachment))
        app.router.add_post("/n/{token}/confirm", guarded(self._confirm))
        app.router.add_post("/n/{token}/attend", guarded(self._attend))
        app.router.add_post("/n/{token}/decline", guarded(self._decline))
        app.router.add_post("/n/{token}/question", guarded(self._question))
        app.router.add_post("/n/{token}/consent", guarded(self._consent))

    async def _find(self, session: AsyncSession, token: str, now: datetime) -> _Found:
        """The notice and the guardian's children in it, or `Refused` (404 / 410)."""
        if not page_allows("receipt"):  # the permission matrix
            raise Refused(404)
        claim = self.signer.read(token)
        if claim is None:
            raise Refused(404)
        if now >= claim.expires_at:
            raise Refused(410)
        notice = await session.get(Notice, claim.notice_id)
        if notice is None:
            raise Refused(404)
        if notice.status is NoticeStatus.ARCHIVED or now.astimezone(self.zone).date() > (
            notice.display_until
        ):
            raise Refused(410)
        if notice.status is not NoticeStatus.PUBLISHED:
            raise Refused(404)
        children = await receipts_of_guardian(
            session=session, notice_id=notice.id or 0, guardian_id=claim.guardian_id
        )
        if not children:
            raise Refused(404)
        school = await session.get(School, notice.school_id)
        t = await guardian_translator(session, claim.guardian_id)
        return _Found(claim, notice, school, children, t)

    # -- GET: the page ------------------------------------------------------------------------

    async def _show(self, request: web.Request) -> web.StreamResponse:
        token = request.match_info["token"]
        code = request.query.get("s", "")
        now = self.now()
        async with self.db.session() as session:
            found = await self._find(session, token, now)
            if not await has_consented(session=session, guardian_id=found.claim.guardian_id):
                return html_answer(self._render_consent(found, token))
            attachments = await attachments_of(session=session, notice_id=found.notice.id or 0)
            held = None
            if code == Refusal.HOURLY:
                sender = (PersonKind.GUARDIAN, found.claim.guardian_id)
                held = await check_message_to_staff(
                    session, sender=sender, now=now, rules=self.rules
                )
        status = self._status_line(found, code, held)
        feedback = self.signer.sign_feedback(
            school_id=found.notice.school_id,
            guardian_id=found.claim.guardian_id,
            expires_at=now + timedelta(days=FEEDBACK_LINK_DAYS),
        )
        care = self.signer.sign_care(
            school_id=found.notice.school_id,
            guardian_id=found.claim.guardian_id,
            expires_at=now + timedelta(days=CARE_LINK_DAYS),
        )
        return html_answer(self._render(found, token, status, attachments, feedback, care))

    def _render_consent(self, found: _Found, token: str) -> str:
        """The consent wording and a 同意 form, before anything else (`handlers.privacy.consent`)."""
        school = found.school.name if found.school is not None else ""
        title, *paragraphs = wording_lines(found.t, school, self.rules)
        return _CONSENT.render(
            lang=page_lang(found.t),
            style=STYLE,
            token=token,
            page_title=title,
            school=school,
            heading=title,
            paragraphs=paragraphs,
            agree_label=found.t._(AGREE_WORD),
        )

    # -- POST: 同意 ---------------------------------------------------------------------------

    async def _consent(self, request: web.Request) -> web.StreamResponse:
        """Record the family's consent (channel "page", audited), then show the notice."""
        token = request.match_info["token"]
        now = self.now()
        async with self.db.session() as session:
            found = await self._find(session, token, now)
            await record_consent(
                session=session,
                school_id=found.notice.school_id,
                guardian_id=found.claim.guardian_id,
                channel=CONSENT_CHANNEL,
                now=now,
            )
        return back_to_page(token, "agreed")

    # -- GET: an attachment -------------------------------------------------------------------

    async def _attachment(self, request: web.Request) -> web.StreamResponse:
        """The file, if it belongs to the link's notice and may be served; else 404."""
        token, wanted = request.match_info["token"], request.match_info["attachment"]
        if not (wanted.isascii() and wanted.isdigit() and len(wanted) < 12):
            raise Refused(404)
        async with self.db.session() as session:
            found = await self._find(session, token, self.now())
            attachment = await session.get(NoticeAttachment, int(wanted))
        if attachment is None or attachment.notice_id != found.notice.id:
            raise Refused(404)
        content_type = content_type_of(attachment)
        if self.files is None or content_type is None or not self._servable(attachment):
            raise Refused(404)
        data = await self.files.fetch(attachment, MAX_ATTACHMENT_BYTES)
        if data is None or len(data) > MAX_ATTACHMENT_BYTES:
            log.info("receipt page: attachment %s could not be fetched", attachment.id)
            raise Refused(404)
        return download_answer(attachment, content_type, data)

    def _servable(self, attachment: NoticeAttachment) -> bool:
        return self.files is not None and servable(attachment, self.files.channels)

    def _status_line(self, found: _Found, code: str, held: Verdict | None) -> _Status | None:
        """The line above the page after an action (`code`, from the redirect); after the hourly
        limit, `held` is the guardian's standing now, saying when they may write again."""
        refusals = {refusal.value: refusal for refusal in Refusal}
        if code not in refusals:
            return _status_line(found, code)
        verdict = Verdict(refusals[code])
        if refusals[code] is Refusal.HOURLY:
            verdict = (
                held
                if held is not None and held.again_at
                else Verdict(Refusal.HOURLY, again_at=self.now())
            )
        text = question_refusal(found.t, verdict, zone=self.zone, rules=self.rules, written=True)
        return _Status(text, warn=refusals[code] is not Refusal.REPEAT)

    def _render(
        self,
        found: _Found,
        token: str,
        status: _Status | None,
        attachments: list[NoticeAttachment],
        feedback: str,
        care: str,
    ) -> str:
        t, notice, children = found.t, found.notice, found.children
        _ = t._
        files = [
            {"url": f"{token}/a/{a.id}", "name": attachment_name_and_size(t, a)}
            for a in attachments
            if self._servable(a)
        ]
        elsewhere = attachment_names(t, [a for a in attachments if not self._servable(a)])
        kind = (
            _("通知")
            if notice.kind is NoticeKind.OTHER
            else _("{kind}通知").format(kind=kind_name(t, notice.kind))
        )
        meeting = notice.kind is NoticeKind.MEETING
        deadline = ""
        if notice.receipt_required and notice.receipt_deadline is not None:
            wording = (
                _("请于 {deadline} 前回复是否参加。")
                if meeting
                else _("请于 {deadline} 前确认收到。")
            )
            deadline = wording.format(deadline=format_moment(t, notice.receipt_deadline, self.zone))
        confirmed = ""
        if all_confirmed(children):
            moment = max(c.confirmed_at for c in children if c.confirmed_at is not None)
            answers = [c.answer for c in children]
            confirmed = receipt_done_line(t, notice, answers, moment, self.zone)
        return _PAGE.render(
            lang=page_lang(t),
            style=STYLE,
            token=token,
            page_title=notice.title,
            school=found.school.name if found.school is not None else "",
            title=_("《{title}》").format(title=notice.title),
            number=f"{kind} {notice.number}".strip(),
            children_line=_("{children}的家长：").format(
                children=children_names([c.child for c in children])
            ),
            body=notice.body,
            files=files,
            files_heading=_("附件（点击下载）："),
            attachments=_("本通知另有附件：{names}。如需查看，请联系班主任。").format(
                names="、".join(elsewhere)
            )
            if elsewhere
            else "",
            deadline=deadline,
            status=status.text if status else "",
            status_warn=bool(status and status.warn),
            receipt_required=notice.receipt_required,
            confirmed=confirmed,
            confirm_label=_("确认收到"),
            answers=_answer_forms(t, children) if meeting else [],
            question=_question_form(t, children) if notice.kind in QUESTION_KINDS else None,
            # The family's feedback page (`bot.web.feedback_page`), beside /n/ on the server.
            feedback_url=f"../f/{feedback}",
            feedback_label=_("意见反馈"),
            feedback_hint=_("对学校、班级或老师有建议、投诉或表扬？可以实名或匿名告诉学校。"),
            # The family's care page (`bot.web.care_page`), beside /n/ too.
            care_url=f"../c/{care}",
            care_label=_("关爱室求助"),
            care_hint=_("孩子遇到困难，需要学校关爱室帮助？内容保密，只有关爱室老师和校长能看到。"),
        )

    # -- POST: 确认收到 -------------------------------------------------------------------------

    async def _confirm(self, request: web.Request) -> web.StreamResponse:
        token = request.match_info["token"]
        now = self.now()
        async with self.db.session() as session:
            found = await self._find(session, token, now)
            if not await has_consented(session=session, guardian_id=found.claim.guardian_id):
                return back_to_page(token, "")
            if not found.notice.receipt_required:
                return back_to_page(token, "")
            confirmation = await confirm_receipt(
                session=session,
                notice_id=found.notice.id or 0,
                guardian_id=found.claim.guardian_id,
                channel=PARENT_CHANNEL,
                now=now,
            )
            if confirmation is None:
                raise Refused(404)
        return back_to_page(token, "ok" if confirmation.recorded else "again")

    # -- POST: 确认参加 / 不能参加 (a meeting's notice) --------------------------------------------

    async def _attend(self, request: web.Request) -> web.StreamResponse:
        return await self._answer(request, ReceiptAnswer.ATTEND)

    async def _decline(self, request: web.Request) -> web.StreamResponse:
        return await self._answer(request, ReceiptAnswer.DECLINE)

    async def _answer(self, request: web.Request, answer: ReceiptAnswer) -> web.StreamResponse:
        """The family's answer to a meeting's notice: its receipt, as the chat's buttons record
        it (`confirm_receipt` with the answer); a meeting's page only."""
        token = request.match_info["token"]
        now = self.now()
        async with self.db.session() as session:
            found = await self._find(session, token, now)
            if found.notice.kind is not NoticeKind.MEETING:
                raise Refused(404)
            if not await has_consented(session=session, guardian_id=found.claim.guardian_id):
                return back_to_page(token, "")
            confirmation = await confirm_receipt(
                session=session,
                notice_id=found.notice.id or 0,
                guardian_id=found.claim.guardian_id,
                channel=PARENT_CHANNEL,
                now=now,
                answer=answer,
            )
            if confirmation is None:
                raise Refused(404)
        if not confirmation.recorded:
            return back_to_page(token, "again")
        return back_to_page(token, answer.value)

    # -- POST: 有疑问 ---------------------------------------------------------------------------

    async def _question(self, request: web.Request) -> web.StreamResponse:
        token = request.match_info["token"]
        form = await request.post()
        text = str(form.get("text") or "").replace("\r\n", "\n").strip()
        wanted = str(form.get("child") or "")
        now = self.now()
        queued = 0
        async with self.db.session() as session:
            found = await self._find(session, token, now)
            if found.notice.kind not in QUESTION_KINDS:
                raise Refused(404)
            if not await has_consented(session=session, guardian_id=found.claim.guardian_id):
                return back_to_page(token, "")
            status, chosen = _question_problem(found.children, text, wanted)
            if chosen is not None:
                status, queued = await self._ask(session, found, chosen, text, now)
        if queued and self.on_outbox is not None:
            self.on_outbox()
        return back_to_page(token, status)

    async def _ask(
        self,
        session: AsyncSession,
        found: _Found,
        chosen: ChildReceipt,
        text: str,
        now: datetime,
    ) -> tuple[str, int]:
        """Forward the question unless the flood limits hold it back (a repeat, one too many);
        (status, rows queued)."""
        notice_id, guardian_id = found.notice.id or 0, found.claim.guardian_id
        verdict = await check_question(
            session,
            notice_id=notice_id,
            guardian_id=guardian_id,
            now=now,
            rules=self.rules,
            text=text,
            student_id=chosen.child.student.id,
        )
        if verdict.refusal is not None:
            await record_refusal(
                session,
                sender=(PersonKind.GUARDIAN, guardian_id),
                subject=f"notice:{notice_id}",
                verdict=verdict,
            )
            return verdict.refusal.value, 0
        forwarded = await forward_question(
            session=session,
            school_id=found.notice.school_id,
            notice=found.notice,
            guardian_id=guardian_id,
            child=chosen.child,
            text=text,
            channel=PARENT_CHANNEL,
            now=now,
        )
        return "asked", forwarded.queued


def _question_problem(
    children: list[ChildReceipt], text: str, wanted: str
) -> tuple[str, ChildReceipt | None]:
    """The child the question is about, or the status saying what is missing."""
    if not text:
        return "empty", None
    if len(text) > QUESTION_LIMIT:
        return "long", None
    if wanted:
        chosen = [c for c in children if str(c.child.student.id) == wanted]
        return ("", chosen[0]) if chosen else ("child", None)
    if len({c.child.klass.id for c in children}) == 1:
        return "", children[0]
    return "child", None


def _question_form(t: Translator, children: list[ChildReceipt]) -> dict[str, Any]:
    _ = t._
    classes = {c.child.klass.id for c in children}
    if len(classes) == 1:
        hint = _(
            "写下您的疑问（不超过 {limit} 字），我们会转给{klass}班主任。"
            "您的电话和账号不会显示给老师。"
        ).format(limit=QUESTION_LIMIT, klass=children[0].child.klass.name)
        choices: list[dict[str, str]] = []
    else:
        hint = _(
            "写下您的疑问（不超过 {limit} 字），我们会转给孩子的班主任。"
            "您的电话和账号不会显示给老师。"
        ).format(limit=QUESTION_LIMIT)
        choices = [
            {
                "value": str(c.child.student.id),
                "label": f"{c.child.student.name}（{c.child.klass.name}）",
            }
            for c in children
        ]
    return {
        "heading": _("有疑问"),
        "hint": hint,
        "children": choices,
        "child_prompt": _("您的疑问是关于哪个孩子的？"),
        "send_label": _("发送疑问"),
        "limit": QUESTION_LIMIT,
    }


def _answer_forms(t: Translator, children: list[ChildReceipt]) -> list[dict[str, Any]]:
    """A meeting's buttons: both answers before any, then the other one (to change it)."""
    given = next((c.answer for c in children if c.answer), "")
    if given == ReceiptAnswer.ATTEND:
        return [{"action": "decline", "label": t._("改为不能参加"), "secondary": True}]
    if given == ReceiptAnswer.DECLINE:
        return [{"action": "attend", "label": t._("改为参加"), "secondary": True}]
    return [
        {"action": "attend", "label": t._("确认参加"), "secondary": False},
        {"action": "decline", "label": t._("不能参加"), "secondary": True},
    ]


def _status_line(found: _Found, code: str) -> _Status | None:
    _ = found.t._
    if code == "attend":
        return _Status(_("已回复：确认参加。谢谢您！"))
    if code == "decline":
        return _Status(_("已回复：不能参加。谢谢您告知！"))
    if code == "again" and found.notice.kind is NoticeKind.MEETING:
        return _Status(_("您已经回复过了，无需再次回复。"))
    if code == "agreed":
        return _Status(_("谢谢您！已记录您的同意。"))
    if code == "ok":
        return _Status(_("已确认收到，谢谢您！"))
    if code == "again":
        return _Status(_("您已经确认过了，无需再次确认。"))
    if code == "asked":
        return _Status(_("您的疑问已转给班主任，老师会尽快答复您。"))
    if code == "empty":
        return _Status(_("请先写下您的疑问，再点“发送疑问”。"), warn=True)
    if code == "long":
        return _Status(
            _("您的疑问超过 {limit} 字，请精简后再发送。").format(limit=QUESTION_LIMIT), warn=True
        )
    if code == "child":
        return _Status(_("请选择您的疑问是关于哪个孩子的。"), warn=True)
    return None
