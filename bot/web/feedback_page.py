"""The feedback page 意见反馈: what a parent on WeCom opens from the family's receipt page to
write to the school — the chat's `/feedback` in one form.

`GET /f/{token}` shows the form: the kind (建议 / 投诉 / 表扬 / 其他), what it is about (a child's
class, one of the children's teachers, the school), the text (at most 1,000 characters) and
实名 / 匿名 with the line saying what anonymity means. `POST /f/{token}` sends it through the
chat's own `handlers.feedback.sending.send_feedback` — the same checks, the same flood limits
(`RULES__MESSAGES_TO_STAFF_PER_HOUR`), the same words, one transaction — and answers with the
chat's receipt, which for anonymous feedback carries its 反馈编号. A bad answer shows the form
again, filled in as sent, with the reason above it; nothing is stored.

**The link and the form's protection.** The token (`bot.web.links`, kind "feedback") names the
school and the guardian and is signed; the receipt page mints it (valid for
`FEEDBACK_LINK_DAYS`) when it shows the family's notice. As on the receipt page, the form posts
back to its own signed address: another site cannot forge the POST without the token, which is
never sent on (no referrer, nothing cached, `form-action 'self'`; `bot.web.security`).

**No redirect after an anonymous submission.** The receipt page redirects after a POST; this page
answers the POST itself, because the code would otherwise travel in a URL beside the family's
token — into the browser's history and the server's access log, where the two side by side
would name the author of anonymous feedback. A reload asks the browser to send the form again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiohttp import web
from jinja2 import Template
from multidict import MultiDictProxy
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.web.links import FeedbackClaim
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
from bot.web.templates.feedback_page import DONE, PAGE
from handlers.feedback.render import ANONYMOUS_EXPLAINED, kind_label, received, teacher_label
from handlers.feedback.sending import FeedbackRefused, send_feedback, text_problem
from handlers.i18n import Translator, translator
from handlers.permissions import page_allows
from models.feedback.queries import NewFeedback, Targets, targets_of_guardian
from models.feedback.tables import FEEDBACK_TEXT_LIMIT, FeedbackAbout, FeedbackKind
from models.privacy.consent import has_consented
from models.roster.tables import Guardian
from models.school.rules import DEFAULT_RULES, SchoolRules
from models.school.tables import School

_PAGE: Template = page_template(PAGE)
_DONE: Template = page_template(DONE)


@dataclass(frozen=True)
class _Found:
    claim: FeedbackClaim
    guardian: Guardian
    school: School | None
    targets: Targets
    t: Translator


@dataclass(frozen=True)
class _Form:
    """What was sent, as sent (to fill the form in again)."""

    kind: str = ""
    about: str = ""
    text: str = ""
    anonymous: str = ""

    @classmethod
    def read(cls, form: MultiDictProxy[Any]) -> _Form:
        def field(name: str) -> str:
            return str(form.get(name) or "")

        text = field("text").replace("\r\n", "\n")
        return cls(field("kind"), field("about"), text, field("anonymous"))


class FeedbackPage(SignedPage):
    """The feedback page under `/f/`; `rules` give the flood limits; `on_outbox` is called after
    feedback queued messages for staff."""

    def __init__(self, *, rules: SchoolRules = DEFAULT_RULES, **page: Any) -> None:
        super().__init__(**page)
        self.rules = rules

    def mount(self, app: web.Application) -> None:
        app.router.add_get("/f/{token}", guarded(self._show))
        app.router.add_post("/f/{token}", guarded(self._send))

    async def _find(self, session: AsyncSession, token: str) -> _Found:
        """The guardian the token names, in its school, or `Refused` (404 / 410; 403 before
        the family agreed to the consent wording)."""
        if not page_allows("feedback"):  # the permission matrix
            raise Refused(404)
        claim = self.signer.read_feedback(token)
        if claim is None:
            raise Refused(404)
        if self.now() >= claim.expires_at:
            zh = translator("zh")
            raise Answered(
                410,
                zh,
                zh._("链接已过期"),
                zh._("这个意见反馈链接已经失效。请从学校发来的通知页面重新打开“意见反馈”。"),
            )
        guardian = await session.get(Guardian, claim.guardian_id)
        if guardian is None or guardian.school_id != claim.school_id:
            raise Refused(404)
        t = await guardian_translator(session, claim.guardian_id)
        if not await has_consented(session=session, guardian_id=claim.guardian_id):
            raise Answered(
                403,
                t,
                t._("请先同意"),
                t._(
                    "提交意见前，请先打开学校发来的通知页面，阅读学校保存孩子信息的说明并点“同意”，"
                    "再从页面底部打开“意见反馈”。"
                ),
            )
        targets = await targets_of_guardian(session, guardian_id=claim.guardian_id)
        school = await session.get(School, claim.school_id)
        return _Found(claim, guardian, school, targets, t)

    # -- GET: the form ------------------------------------------------------------------------

    async def _show(self, request: web.Request) -> web.StreamResponse:
        token = request.match_info["token"]
        async with self.db.session() as session:
            found = await self._find(session, token)
        return html_answer(self._render(found, token, _Form(), ""))

    def _render(self, found: _Found, token: str, form: _Form, status: str) -> str:
        t = found.t
        _ = t._
        abouts = [(f"class:{c.class_id}", c.name) for c in found.targets.classes]
        abouts += [(f"teacher:{x.staff_id}", teacher_label(t, x)) for x in found.targets.teachers]
        abouts.append(("school", _("学校")))
        return _PAGE.render(
            lang=page_lang(t),
            style=STYLE,
            token=token,
            page_title=_("意见反馈"),
            school=found.school.name if found.school is not None else "",
            heading=_("意见反馈"),
            intro=_("您对学校、班级或老师的建议、投诉和表扬，都可以写在这里。"),
            status=status,
            kind_prompt=_("类别"),
            kinds=_choices([(k.value, kind_label(t, k)) for k in FeedbackKind], form.kind),
            about_prompt=_("是关于什么的？"),
            abouts=_choices(abouts, form.about),
            text_prompt=_("请写下您的意见（最多 {limit} 字）。").format(limit=FEEDBACK_TEXT_LIMIT),
            text=form.text,
            limit=FEEDBACK_TEXT_LIMIT,
            signed_prompt=_("实名还是匿名提交？"),
            signed=_choices([("0", _("实名")), ("1", _("匿名"))], form.anonymous),
            anonymous_hint=_(ANONYMOUS_EXPLAINED),
            send_label=_("提交"),
        )

    # -- POST: 提交 ------------------------------------------------------------------------------

    async def _send(self, request: web.Request) -> web.StreamResponse:
        token = request.match_info["token"]
        form = _Form.read(await request.post())
        now = self.now()
        async with self.db.session() as session:
            found = await self._find(session, token)
            new = _feedback(found, form)
            if isinstance(new, str):
                return html_answer(self._render(found, token, form, new), 400)
            try:
                sent = await send_feedback(
                    session, new, t=found.t, now=now, zone=self.zone, rules=self.rules
                )
            except FeedbackRefused as refused:
                # Committed all the same: a refusal by a limit leaves its line in the audit log.
                return html_answer(self._render(found, token, form, refused.message), 400)
        if sent.queued and self.on_outbox is not None:
            self.on_outbox()
        t = found.t
        return html_answer(
            _DONE.render(
                lang=page_lang(t),
                style=STYLE,
                page_title=t._("意见反馈"),
                school=found.school.name if found.school is not None else "",
                heading=t._("已提交"),
                code=sent.feedback.code if sent.feedback.anonymous else "",
                lines=received(t, sent.feedback).split("\n"),
            )
        )


def _choices(options: list[tuple[str, str]], chosen: str) -> list[dict[str, Any]]:
    return [{"value": v, "label": label, "checked": v == chosen} for v, label in options]


def _feedback(found: _Found, form: _Form) -> NewFeedback | str:
    """The feedback the form describes, or what is missing or wrong (translated)."""
    _ = found.t._
    if form.kind not in {k.value for k in FeedbackKind}:
        return _("请选择意见的类别。")
    about, _sep, target = form.about.partition(":")
    if about not in {a.value for a in FeedbackAbout} or (
        about != FeedbackAbout.SCHOOL and not (target.isascii() and target.isdigit())
    ):
        return _("请选择意见是关于什么的。")
    if form.anonymous not in ("0", "1"):
        return _("请选择实名还是匿名提交。")
    problem = text_problem(found.t, form.text)
    if problem is not None:
        return problem
    number = int(target) if target.isascii() and target.isdigit() and len(target) < 12 else None
    return NewFeedback(
        school_id=found.claim.school_id,
        kind=FeedbackKind(form.kind),
        about=FeedbackAbout(about),
        text=form.text,
        guardian_id=found.guardian.id or 0,
        anonymous=form.anonymous == "1",
        about_class_id=number if about == FeedbackAbout.CLASS else None,
        about_staff_id=number if about == FeedbackAbout.TEACHER else None,
    )
