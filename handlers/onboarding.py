"""Joining: `/start <code>` from an invite link, or a guardian sharing their own phone number."""

from __future__ import annotations

from handlers.context import Context
from handlers.i18n import N_, Translator
from handlers.types import Inbound, Reply
from models.accounts.invites import InviteProblem, bind_account, redeem_invite
from models.accounts.tables import ChannelAccount, PersonKind
from models.audit.tables import audit
from models.roster.phones import normalise_phone
from models.roster.queries import children_of, guardian_by_phone, person_for, staff_duties
from models.roster.tables import Guardian, Staff, StaffRole


class NoSchool(Exception):
    """The database has no school yet: the roster was never imported."""


ROLE_NAMES = {
    StaffRole.ADMIN: N_("德育处管理员"),
    StaffRole.PRINCIPAL: N_("校长"),
    StaffRole.CARE: N_("关爱室工作人员"),
    StaffRole.DISTRICT: N_("区域管理员"),
}


#: Titles a roster may already carry in a name: "王老师" is greeted as 王老师, not 王老师老师.
TITLES = ("老师", "主任", "校长")


def without_title(name: str) -> str:
    for title in TITLES:
        if name.endswith(title) and len(name) > len(title):
            return name[: -len(title)]
    return name


#: Channels whose users are the school's own staff accounts (WeCom members), recognised by the
#: roster's account column rather than by a shared phone number.
MEMBER_CHANNELS = frozenset({"wecom"})


def unbound_reply(t: Translator, channel: str = "") -> Reply:
    if channel in MEMBER_CHANNELS:
        return Reply(
            t._(
                "您好！这里是学校的家校联系助手。您的企业微信账号还没有与学校名册关联，"
                "所以暂时不能查看或记录任何信息。\n"
                "请联系德育处：在名册的“企业微信账号”一栏填上您的账号后重新导入，"
                "或运行一次企业微信同步；也可以发送 /start 加邀请码。"
            )
        )
    return Reply(
        t._(
            "您好！这里是学校的家校联系助手。您的账号还没有与学校名册绑定，所以暂时不能查看或记录任何信息。\n"
            "· 老师：请打开学校发给您的邀请链接，或发送 /start 加邀请码。\n"
            "· 家长：请点下方按钮分享本机手机号，与学校登记的号码一致即可绑定；也可以使用班主任发给您的邀请链接。"
        ),
        request_contact=True,
    )


async def start(inbound: Inbound, ctx: Context, code: str) -> list[Reply]:
    _ = ctx.t._
    if not code:
        if ctx.account is not None and (ctx.staff or ctx.guardian):
            return [await greeting(ctx)]
        return [unbound_reply(ctx.t, inbound.channel)]
    outcome = await redeem_invite(
        session=ctx.session,
        code=code,
        channel=inbound.channel,
        external_id=inbound.user_id,
        chat_id=inbound.chat_id,
        language=ctx.t.language,
        now=ctx.now,
        school_id=ctx.school.id,
    )
    if outcome is InviteProblem.UNKNOWN:
        return [Reply(_("这个邀请码无效。请核对链接是否完整，或向学校索取新的邀请。"))]
    if outcome is InviteProblem.USED:
        return [
            Reply(
                _("这个邀请码已经被使用过了。如果不是您本人使用的，请联系学校德育处重新发放邀请。")
            )
        ]
    if outcome is InviteProblem.EXPIRED:
        return [Reply(_("这个邀请码已过期。请联系学校重新发放邀请。"))]
    ctx.account_changed()
    await _load_person(ctx, outcome.account)
    if not outcome.again:
        await audit(
            session=ctx.session,
            actor=ctx.actor,
            action="account.bind",
            subject=f"{inbound.channel}:{outcome.account.id}",
            detail="invite",
        )
    return [await greeting(ctx)]


async def contact_shared(inbound: Inbound, ctx: Context) -> list[Reply]:
    _ = ctx.t._
    phone = normalise_phone(inbound.contact_phone)
    guardian = await guardian_by_phone(
        session=ctx.session, school_id=ctx.school.id or 0, phone=phone
    )
    if guardian is None or guardian.id is None:
        return [
            Reply(
                _(
                    "没有在学校名册中找到这个手机号。请联系班主任核对登记的号码，"
                    "或使用班主任发给您的邀请链接。"
                )
            )
        ]
    account = await bind_account(
        session=ctx.session,
        channel=inbound.channel,
        external_id=inbound.user_id,
        chat_id=inbound.chat_id,
        school_id=guardian.school_id,
        kind=PersonKind.GUARDIAN,
        person_id=guardian.id,
        language=ctx.t.language,
        now=ctx.now,
    )
    ctx.account_changed()
    await _load_person(ctx, account)
    await audit(
        session=ctx.session,
        actor=ctx.actor,
        action="account.bind",
        subject=f"{inbound.channel}:{account.id}",
        detail="contact",
    )
    return [await greeting(ctx)]


async def _load_person(ctx: Context, account: ChannelAccount) -> None:
    ctx.account = account
    person = await person_for(session=ctx.session, account=account)
    ctx.staff = person if isinstance(person, Staff) else None
    ctx.guardian = person if isinstance(person, Guardian) else None


async def greeting(ctx: Context) -> Reply:
    _ = ctx.t._
    if ctx.staff is not None and StaffRole.DISTRICT in ctx.staff.role_set():
        return Reply(
            _(
                "{name}，您好！您已绑定为{school}的区域管理员。"
                "发送 /district（或“区域合规”）查看各校家访合规日报和对比图，只有统计数字；"
                "每个上课日早上 {time} 也会发给您。"
            ).format(
                name=ctx.staff.name, school=ctx.school.name, time=f"{ctx.rules.digest_time:%H:%M}"
            )
        )
    if ctx.staff is not None:
        duties = await staff_duties(session=ctx.session, staff=ctx.staff)
        parts = [_("{cls}班主任").format(cls=c) for c in duties.head_of]
        parts += [
            _("{cls}{subject}老师").format(cls=c, subject=s)
            if s
            else _("{cls}任课老师").format(cls=c)
            for c, s in duties.teaches
        ]
        parts += [_("{group}教练").format(group=g) for g in duties.coaches]
        parts += [_(ROLE_NAMES[r]) for r in sorted(duties.roles)]
        roles = _("、").join(parts) if parts else _("教职工")
        return Reply(
            _(
                "{name}老师，您好！您已绑定为{school}的{roles}。\n"
                "发送 /visit 记录一次家访，或直接发一句话，例如：今天上门家访了三(2)班张小明，见了奶奶。"
                "发送 /help 查看全部功能。"
            ).format(name=without_title(ctx.staff.name), school=ctx.school.name, roles=roles)
        )
    if ctx.guardian is not None:
        children = await children_of(session=ctx.session, guardian=ctx.guardian)
        names = _("、").join(f"{klass.name}{student.name}" for student, klass in children)
        # A parent is greeted as their child's parent, never by their own bare name.
        greeted = _("、").join(student.name for student, _klass in children)
        return Reply(
            _(
                "{greeted}家长，您好！您已绑定为{school}{children}的家长。"
                "学校的通知会发到这里，请留意查收并确认。"
            ).format(greeted=greeted, school=ctx.school.name, children=names)
        )
    return unbound_reply(ctx.t, ctx.channel)
