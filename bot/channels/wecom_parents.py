"""Parents on WeCom (家校通讯录): school notices through `externalcontact/message/send`.

A parent is bound as `ChannelAccount(channel="wecom-parent", external_id=parent_userid,
chat_id=parent_userid, person_kind=guardian)`. WeCom shows no buttons in a school notice, so:

* a reply carrying a notice's button (确认收到 / 有疑问 / opening it) goes as a `news` notice with
  one article linking to that guardian's signed receipt page (`bot.web.receipt_page`), where the
  parent confirms or asks;
* a reply carrying an urgent incident's 已知悉 button goes as a `news` notice titled
  【紧急】张小明在校突发情况, linking to that guardian's signed incident page
  (`bot.web.incident_page`), where the parent acknowledges;
* anything else (a teacher's answer, a reminder without buttons) goes as a `text` notice.

Pictures and files are not sent: a school notice carries text or a link only.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from zoneinfo import ZoneInfo

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.channels.base import PermanentSendError
from bot.channels.wecom_api import WecomApi, WecomError, news_article
from bot.channels.wecom_errors import send_error
from bot.web.incident_page import incident_description, incident_title
from bot.web.links import LinkSigner, incident_link_expiry, link_expiry
from handlers.actions import parse_action
from handlers.i18n import translator
from handlers.incident.buttons import ACK
from handlers.notice.render import ATTEND, CONFIRM, DECLINE, QUESTION, SHOW, title_line
from handlers.surveys.answer import ACTION as START_SURVEY
from handlers.types import Reply
from models.accounts.tables import ChannelAccount, PersonKind
from models.db.engine import Database
from models.incidents.queries import incident_view, is_guardian_of
from models.notices.tables import Notice
from models.outbox.outcomes import FailureReason
from models.school.tables import School
from models.surveys.tables import Survey, SurveyForm

#: Actions whose buttons mean "this message is a notice to a guardian" (a meeting's notice
#: carries 确认参加 / 不能参加 instead of 确认收到).
NOTICE_ACTIONS = frozenset({CONFIRM, QUESTION, SHOW, ATTEND, DECLINE})
#: The action whose button means "this message asks a guardian to acknowledge an incident".
INCIDENT_ACTIONS = frozenset({ACK})
#: The action whose button (开始填写) means "this message invites a family to a survey".
SURVEY_ACTIONS = frozenset({START_SURVEY})
#: The zone of a school without one (never happens: the column has this default).
DEFAULT_ZONE = "Asia/Shanghai"
#: Characters of the text shown under the article's title.
DESCRIPTION_LENGTH = 80


def _subject_of(reply: Reply, actions: frozenset[str]) -> int | None:
    """The id argument of the first of `actions` whose button the reply carries, if any."""
    for row in reply.buttons:
        for button in row:
            action = parse_action(button.data)
            if action is None:
                continue
            name, argument = action
            if name in actions and argument.isascii() and argument.isdigit():
                return int(argument)
    return None


def notice_of(reply: Reply) -> int | None:
    """The id of the notice whose action button the reply carries, if any."""
    return _subject_of(reply, NOTICE_ACTIONS)


def incident_of(reply: Reply) -> int | None:
    """The id of the incident whose 已知悉 button the reply carries, if any."""
    return _subject_of(reply, INCIDENT_ACTIONS)


def survey_of(reply: Reply) -> int | None:
    """The id of the survey whose 开始填写 button the reply carries, if any."""
    return _subject_of(reply, SURVEY_ACTIONS)


_SPACES = re.compile(r"\s+")


def description_of(text: str, limit: int = DESCRIPTION_LENGTH) -> str:
    """A short start of the message, without its 【…】 header and 《title》 line."""
    lines = [
        line.strip()
        for line in text.splitlines()
        if line.strip() and not line.startswith(("【", "《"))
    ]
    flat = _SPACES.sub(" ", " ".join(lines))
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


class WecomParentChannel:
    """Sends outbox rows of channel "wecom-parent" as school notices to one parent each."""

    name = "wecom-parent"
    #: WeCom allows a member 30 messages a minute; parents get far fewer from us.
    rate_per_second = 5.0
    rate_per_chat_per_second = 0.2

    def __init__(
        self,
        api: WecomApi,
        db: Database,
        signer: LinkSigner,
        public_base_url: str,
        *,
        school: Callable[[], Awaitable[int | None]] | None = None,
    ) -> None:
        self.api = api
        self.db = db
        #: Finds the school whose parents this app reaches (a parent's userid is unique only in
        #: its corp); None: the parent of that userid in any school.
        self.school = school
        self.signer = signer
        self.public_base_url = public_base_url.rstrip("/")

    async def send(self, chat_id: str, reply: Reply) -> str | None:
        notice_id = notice_of(reply)
        incident_id = incident_of(reply) if notice_id is None else None
        survey_id = survey_of(reply) if notice_id is None and incident_id is None else None
        article: dict[str, object] | None = None
        if notice_id:
            article = await self._article(chat_id, notice_id, reply)
        elif incident_id:
            article = await self._incident_article(chat_id, incident_id, reply)
        elif survey_id:
            article = await self._survey_article(chat_id, survey_id, reply)
        try:
            if article is not None:
                result = await self.api.send_school_notice(
                    "news", article, parent_userids=[chat_id]
                )
            else:
                result = await self.api.send_school_notice(
                    "text", {"content": reply.text}, parent_userids=[chat_id]
                )
        except WecomError as error:
            raise send_error(error) from error
        if chat_id.lower() in {p.lower() for p in result.invalid_parents}:
            raise PermanentSendError(
                "WeCom does not know this parent (invalid_parent_userid)",
                FailureReason.CHAT_NOT_FOUND,
            )
        return None

    async def _school_id(self) -> int | None:
        """The school whose parents this app reaches; asked before a session is opened (on
        SQLite a session waits for any other of this process to end)."""
        return await self.school() if self.school is not None else None

    async def _account(
        self, session: AsyncSession, chat_id: str, school_id: int | None
    ) -> ChannelAccount:
        """The guardian bound to this WeCom parent (in `school_id`, when given); a permanent
        failure if there is none."""
        mine = [ChannelAccount.school_id == school_id] if school_id is not None else []
        account = (
            await session.exec(
                select(ChannelAccount).where(
                    ChannelAccount.channel == self.name,
                    ChannelAccount.chat_id == chat_id,
                    ChannelAccount.person_kind == PersonKind.GUARDIAN,
                    *mine,
                )
            )
        ).first()
        if account is None:
            raise PermanentSendError(
                "no guardian is bound to this WeCom parent", FailureReason.CHAT_NOT_FOUND
            )
        return account

    async def _incident_article(
        self, chat_id: str, incident_id: int, reply: Reply
    ) -> dict[str, object] | None:
        """The link card to the guardian's incident page; None when the incident is gone or
        not about their child (the text goes as it is)."""
        school_id = await self._school_id()
        async with self.db.session() as session:
            account = await self._account(session, chat_id, school_id)
            view = await incident_view(
                session=session, school_id=account.school_id, incident_id=incident_id
            )
            if view is None or not await is_guardian_of(
                session=session, guardian_id=account.person_id, student_id=view.student.id or 0
            ):
                return None
        token = self.signer.sign_incident(
            incident_id=incident_id,
            guardian_id=account.person_id,
            expires_at=incident_link_expiry(view.incident.reported_at),
        )
        return news_article(
            title=incident_title(translator(account.language), view),
            description=incident_description(reply.text),
            url=f"{self.public_base_url}/i/{token}",
        )

    async def _survey_article(
        self, chat_id: str, survey_id: int, reply: Reply
    ) -> dict[str, object] | None:
        """The link card to the family's survey page (valid until the deadline); None when the
        survey is gone or of another school (the text goes as it is)."""
        school_id = await self._school_id()
        async with self.db.session() as session:
            account = await self._account(session, chat_id, school_id)
            survey = await session.get(Survey, survey_id)
            if survey is None or survey.school_id != account.school_id:
                return None
            form = await session.get(SurveyForm, survey.form_id)
        token = self.signer.sign_survey(
            survey_id=survey_id, guardian_id=account.person_id, expires_at=survey.deadline
        )
        return news_article(
            title=form.name if form is not None else translator(account.language)._("问卷"),
            description=description_of(reply.text),
            url=f"{self.public_base_url}/s/{token}",
        )

    async def _article(
        self, chat_id: str, notice_id: int, reply: Reply
    ) -> dict[str, object] | None:
        """The link card to the guardian's receipt page; None when the notice is gone."""
        school_id = await self._school_id()
        async with self.db.session() as session:
            account = await self._account(session, chat_id, school_id)
            notice = await session.get(Notice, notice_id)
            if notice is None or notice.school_id != account.school_id:
                return None
            school = await session.get(School, notice.school_id)
        zone = ZoneInfo(school.timezone if school is not None else DEFAULT_ZONE)
        token = self.signer.sign(
            notice_id=notice_id,
            guardian_id=account.person_id,
            expires_at=link_expiry(notice.display_until, zone),
        )
        t = translator(account.language)
        return news_article(
            title=title_line(t, notice),
            description=description_of(reply.text),
            url=f"{self.public_base_url}/n/{token}",
        )
