"""Who is who on WeCom (企业微信): staff by their member userid, parents by the 家校通讯录.

* `bind_wecom_member` is for the WeCom channel: a member writes to the app, and the roster's
  企业微信账号 column (`Staff.wecom_userid`) says which staff member that is.
* `sync_wecom` is for `python -m bot wecom sync`: it reads the school's members and its
  家校通讯录 and links them to the roster by mobile number (or an already-set userid).

WeCom treats userids as case-insensitive and lower-cases them in callbacks, so staff accounts
(`channel="wecom"`) are keyed by the lower-cased userid. Parents' accounts
(`channel="wecom-parent"`) are keyed by the `parent_userid` as WeCom lists it.

Nothing here re-links an account or a userid that already belongs to someone else: such cases
are reported for a person to settle. Phone numbers only ever leave this module masked.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.channels.wecom_api import Member, SchoolStudent, WecomApi
from models.accounts.tables import ChannelAccount, PersonKind
from models.audit.tables import audit
from models.db.engine import Database
from models.roster.phones import mask_phone, normalise_phone
from models.roster.tables import Guardian, Staff

log = logging.getLogger(__name__)

#: Staff: members of the school's WeCom, writing to and written to by the app.
WECOM_CHANNEL = "wecom"
#: Parents in the 家校通讯录, reached by school notices (家校消息).
WECOM_PARENT_CHANNEL = "wecom-parent"


def wecom_key(userid: str) -> str:
    """The form a member userid is stored and compared in (WeCom lower-cases them)."""
    return userid.strip().lower()


# -- a member writing to the app ---------------------------------------------------------------


async def _account_by_userid(
    *, session: AsyncSession, school_id: int, userid: str
) -> ChannelAccount | None:
    """The school's account of this userid, as written or lower-cased (a userid is unique only
    within one corp: another school's app may have the same)."""
    wanted = {userid, wecom_key(userid)}
    query = select(ChannelAccount).where(
        ChannelAccount.school_id == school_id,
        ChannelAccount.channel == WECOM_CHANNEL,
        col(ChannelAccount.external_id).in_(wanted),
    )
    found = {a.external_id: a for a in (await session.exec(query)).all()}
    return found.get(userid) or found.get(wecom_key(userid))


async def bind_wecom_member(
    *, session: AsyncSession, school_id: int, userid: str, now: datetime
) -> ChannelAccount | None:
    """The account of the WeCom member `userid`; created from the roster's 企业微信账号 if needed.

    None when no active staff member of the school has that userid (or, ambiguously, several
    do). Safe to call for every message, and from two callbacks at once.
    """
    key = wecom_key(userid)
    if not key:
        return None
    account = await _account_by_userid(session=session, school_id=school_id, userid=userid)
    if account is not None:
        return account
    query = select(Staff).where(
        Staff.school_id == school_id,
        col(Staff.active),
        func.lower(col(Staff.wecom_userid)) == key,
    )
    staff = list((await session.exec(query)).all())
    if len(staff) != 1 or staff[0].id is None:
        if staff:
            log.warning("wecom: %d staff share one 企业微信账号; not binding", len(staff))
        return None
    account = ChannelAccount(
        channel=WECOM_CHANNEL,
        external_id=key,
        chat_id=key,
        school_id=school_id,
        person_kind=PersonKind.STAFF,
        person_id=staff[0].id,
        bound_at=now,
    )
    try:
        async with session.begin_nested():
            session.add(account)
            await session.flush()
    except IntegrityError:
        # Another callback for the same member bound it first: use that account.
        return await _account_by_userid(session=session, school_id=school_id, userid=userid)
    await audit(
        session=session,
        actor=f"staff:{staff[0].id}",
        action="account.bind",
        subject=f"{WECOM_CHANNEL}:{account.id}",
        detail="wecom userid",
    )
    return account


# -- the report ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Listed:
    """Someone on one side only (or in conflict): a name and a masked mobile, never the number."""

    name: str
    #: e.g. `138****0001`; "" when there is no number.
    mobile: str = ""
    #: Why they were not linked, for conflicts (Chinese, ready to print).
    reason: str = ""

    def describe(self) -> str:
        text = f"{self.name}（{self.mobile or '无手机号'}）"
        return f"{text}：{self.reason}" if self.reason else text


@dataclass
class LinkCount:
    linked: int = 0
    already: int = 0


@dataclass
class SyncReport:
    staff: LinkCount = field(default_factory=LinkCount)
    parents: LinkCount = field(default_factory=LinkCount)
    #: Members / parents matched to someone, but not linked because of a conflict.
    member_conflicts: list[Listed] = field(default_factory=list)
    parent_conflicts: list[Listed] = field(default_factory=list)
    #: Members / parents WeCom lists that match nobody in the roster.
    unmatched_members: list[Listed] = field(default_factory=list)
    unmatched_parents: list[Listed] = field(default_factory=list)
    #: Roster staff / guardians with a phone that WeCom does not list.
    staff_not_in_wecom: list[Listed] = field(default_factory=list)
    guardians_not_in_wecom: list[Listed] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.staff.linked or self.parents.linked)

    def summary(self, *, limit: int = 10) -> str:
        """What the admin reads after `wecom sync`; lists are cut after `limit` people."""
        counts = (
            f"教师新关联 {self.staff.linked}、已关联 {self.staff.already}；"
            f"家长新关联 {self.parents.linked}、已关联 {self.parents.already}"
        )
        if self.changed:
            lines = [f"企业微信同步完成：{counts}。"]
        else:
            lines = [f"企业微信同步完成，没有变化（{counts}）。"]
        conflicts = self.member_conflicts + self.parent_conflicts
        if conflicts:
            lines.append(f"以下 {len(conflicts)} 人未关联，请人工核对：")
            lines.extend(f"  {p.describe()}" for p in _first(conflicts, limit))
            if len(conflicts) > limit:
                lines.append(f"  ……另有 {len(conflicts) - limit} 人")
        for label, people in (
            ("企业微信成员在名册中找不到", self.unmatched_members),
            ("家校通讯录的家长在名册中找不到", self.unmatched_parents),
            ("名册中有手机号、但企业微信未列出的教师", self.staff_not_in_wecom),
            ("名册中有手机号、但家校通讯录未列出的家长", self.guardians_not_in_wecom),
        ):
            if people:
                shown = "、".join(p.describe() for p in _first(people, limit))
                more = "、……" if len(people) > limit else ""
                lines.append(f"{label}（{len(people)} 人）：{shown}{more}")
        no_mobile = sum(1 for p in self.unmatched_members + self.unmatched_parents if not p.mobile)
        if no_mobile:
            lines.append(
                f"其中 {no_mobile} 人企业微信没有返回手机号：请在企业微信管理后台检查本应用的"
                "通讯录权限和可见范围；教师也可在名册的“企业微信账号”一栏填写其账号，导入后重新同步。"
            )
        return "\n".join(lines)

    def audit_detail(self) -> str:
        """Counts only — the audit log never holds names or phones."""
        return (
            f"staff +{self.staff.linked}/={self.staff.already}, "
            f"parents +{self.parents.linked}/={self.parents.already}, "
            f"conflicts {len(self.member_conflicts) + len(self.parent_conflicts)}, "
            f"unmatched {len(self.unmatched_members) + len(self.unmatched_parents)}"
        )


def _first(people: Sequence[Listed], limit: int) -> Sequence[Listed]:
    return people[:limit]


def _masked(raw: str | None) -> str:
    return mask_phone(normalise_phone(raw))


def _shown_userid(userid: str) -> str:
    """A userid for the report; masked when it is a phone number (schools often use those)."""
    digits = normalise_phone(userid)
    return mask_phone(digits) if digits == userid and len(digits) >= 7 else userid


# -- the sync ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _ListedParent:
    parent_userid: str
    #: "小明妈妈": the 家校通讯录 gives parents no name of their own.
    label: str
    mobile: str | None


def _parents(students: Iterable[SchoolStudent]) -> list[_ListedParent]:
    """Each parent once (a parent of siblings is listed under each child)."""
    seen: dict[str, _ListedParent] = {}
    for student in students:
        for parent in student.parents:
            if parent.parent_userid not in seen:
                label = f"{student.name}{parent.relation or '家长'}"
                seen[parent.parent_userid] = _ListedParent(
                    parent.parent_userid, label, parent.mobile
                )
    return list(seen.values())


def _index(pairs: Iterable[tuple[str, int]]) -> dict[str, list[int]]:
    index: dict[str, list[int]] = {}
    for key, value in pairs:
        if key:
            index.setdefault(key, []).append(value)
    return index


class _Sync:
    """One sync run inside one transaction: the school's rows loaded once, then matched."""

    def __init__(self, session: AsyncSession, school_id: int, now: datetime) -> None:
        self.session = session
        self.school_id = school_id
        self.now = now
        self.report = SyncReport()
        self.staff: dict[int, Staff] = {}
        self.guardians: dict[int, Guardian] = {}
        self.accounts: dict[tuple[str, str], ChannelAccount] = {}

    async def load(self, external_ids: set[tuple[str, str]]) -> None:
        exec_ = self.session.exec
        staff = select(Staff).where(Staff.school_id == self.school_id, col(Staff.active))
        self.staff = {s.id or 0: s for s in (await exec_(staff)).all()}
        guardians = select(Guardian).where(Guardian.school_id == self.school_id)
        self.guardians = {g.id or 0: g for g in (await exec_(guardians)).all()}
        for channel in (WECOM_CHANNEL, WECOM_PARENT_CHANNEL):
            ids = sorted(e for c, e in external_ids if c == channel)
            for start in range(0, len(ids), 500):
                query = select(ChannelAccount).where(
                    ChannelAccount.school_id == self.school_id,
                    ChannelAccount.channel == channel,
                    col(ChannelAccount.external_id).in_(ids[start : start + 500]),
                )
                for account in (await exec_(query)).all():
                    self.accounts[(account.channel, account.external_id)] = account

    def _owner(self, account: ChannelAccount) -> str:
        """Who an account belongs to, for a conflict message."""
        if account.person_kind == PersonKind.STAFF and account.person_id in self.staff:
            return f"教师{self.staff[account.person_id].name}"
        if account.person_kind == PersonKind.GUARDIAN and account.person_id in self.guardians:
            return f"家长{self.guardians[account.person_id].name}"
        return "另一所学校或已离校的人员"

    def _link(self, channel: str, external_id: str, kind: PersonKind, person_id: int) -> bool | str:
        """Create or update the account; True if changed, False if already so, or a conflict."""
        account = self.accounts.get((channel, external_id))
        if account is None:
            account = ChannelAccount(
                channel=channel,
                external_id=external_id,
                chat_id=external_id,
                school_id=self.school_id,
                person_kind=kind,
                person_id=person_id,
                bound_at=self.now,
            )
            self.session.add(account)
            self.accounts[(channel, external_id)] = account
            return True
        if account.person_kind != kind or account.person_id != person_id:
            return f"该账号已关联到{self._owner(account)}"
        if account.chat_id == external_id and account.school_id == self.school_id:
            return False
        account.chat_id, account.school_id = external_id, self.school_id
        self.session.add(account)
        return True

    def members(self, members: Sequence[Member]) -> None:
        report = self.report
        by_userid = _index((wecom_key(s.wecom_userid or ""), id_) for id_, s in self.staff.items())
        by_phone = _index((normalise_phone(s.phone), id_) for id_, s in self.staff.items())
        listed: set[int] = set()
        linked: set[int] = set()
        # Members the roster names by userid first, so a phone never takes their place.
        ordered = sorted(members, key=lambda m: wecom_key(m.userid) not in by_userid)
        for member in ordered:
            key = wecom_key(member.userid)
            shown = Listed(member.name, _masked(member.mobile))
            by_id = by_userid.get(key)
            candidates = by_id or by_phone.get(normalise_phone(member.mobile)) or []
            if not candidates:
                report.unmatched_members.append(shown)
                continue
            listed.update(candidates)
            if len(candidates) > 1:
                names = "、".join(self.staff[c].name for c in candidates)
                reason = f"名册中 {names} 的企业微信账号或手机号相同"
                report.member_conflicts.append(_reason(shown, reason))
                continue
            staff = self.staff[candidates[0]]
            if by_id is None and staff.wecom_userid and wecom_key(staff.wecom_userid) != key:
                reason = (
                    f"手机号与{staff.name}相同，但名册中{staff.name}的企业微信账号是"
                    f"“{_shown_userid(staff.wecom_userid)}”，不是“{_shown_userid(member.userid)}”"
                )
                report.member_conflicts.append(_reason(shown, reason))
                continue
            if staff.id in linked:
                reason = f"{staff.name}已与另一个企业微信成员关联"
                report.member_conflicts.append(_reason(shown, reason))
                continue
            outcome = self._link(WECOM_CHANNEL, key, PersonKind.STAFF, staff.id or 0)
            if isinstance(outcome, str):
                report.member_conflicts.append(_reason(shown, outcome))
                continue
            linked.add(staff.id or 0)
            if staff.wecom_userid is None or wecom_key(staff.wecom_userid) != key:
                staff.wecom_userid = member.userid
                self.session.add(staff)
                outcome = True
            if outcome:
                report.staff.linked += 1
            else:
                report.staff.already += 1
        report.staff_not_in_wecom = [
            Listed(s.name, _masked(s.phone))
            for id_, s in self.staff.items()
            if id_ not in listed and normalise_phone(s.phone)
        ]

    def parents(self, parents: Sequence[_ListedParent]) -> None:
        report = self.report
        by_phone = _index((normalise_phone(g.phone), id_) for id_, g in self.guardians.items())
        listed: set[int] = set()
        linked: set[int] = set()
        for parent in parents:
            shown = Listed(parent.label, _masked(parent.mobile))
            candidates = by_phone.get(normalise_phone(parent.mobile)) or []
            if not candidates:
                report.unmatched_parents.append(shown)
                continue
            listed.update(candidates)
            if len(candidates) > 1:
                names = "、".join(self.guardians[c].name for c in candidates)
                reason = f"名册中 {names} 的手机号相同"
                report.parent_conflicts.append(_reason(shown, reason))
                continue
            guardian = self.guardians[candidates[0]]
            if guardian.id in linked:
                reason = f"{guardian.name}已与另一个家校通讯录账号关联（同一手机号）"
                report.parent_conflicts.append(_reason(shown, reason))
                continue
            outcome = self._link(
                WECOM_PARENT_CHANNEL, parent.parent_userid, PersonKind.GUARDIAN, guardian.id or 0
            )
            if isinstance(outcome, str):
                report.parent_conflicts.append(_reason(shown, outcome))
                continue
            linked.add(guardian.id or 0)
            if outcome:
                report.parents.linked += 1
            else:
                report.parents.already += 1
        report.guardians_not_in_wecom = [
            Listed(g.name, _masked(g.phone))
            for id_, g in self.guardians.items()
            if id_ not in listed and normalise_phone(g.phone)
        ]


def _reason(listed: Listed, reason: str) -> Listed:
    return Listed(listed.name, listed.mobile, reason)


async def sync_wecom(*, db: Database, api: WecomApi, school_id: int, now: datetime) -> SyncReport:
    """Link the school's WeCom members and 家校通讯录 parents to the roster, in one transaction.

    Both directories are read before anything is written, so a WeCom error (`WecomError`,
    raised as is) leaves the database unchanged. Running it again changes nothing.
    """
    members = await api.list_members()
    parents = _parents(await api.list_school_contacts())
    wanted = {(WECOM_CHANNEL, wecom_key(m.userid)) for m in members}
    wanted |= {(WECOM_PARENT_CHANNEL, p.parent_userid) for p in parents}
    async with db.session() as session:
        sync = _Sync(session, school_id, now)
        await sync.load(wanted)
        sync.members(members)
        sync.parents(parents)
        await session.flush()
        if sync.report.changed:
            await audit(
                session=session,
                actor="cli",
                action="wecom.sync",
                subject=f"school:{school_id}",
                detail=sync.report.audit_detail(),
            )
    return sync.report
