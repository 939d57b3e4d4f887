"""WeCom identity: members bound by the roster's 企业微信账号, and `sync_wecom` against the fake."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from sqlmodel import col, select

import bot.roster.wecom_sync as identity
from bot.channels.wecom_api import WecomApi, WecomError
from bot.roster.wecom_sync import (
    WECOM_CHANNEL,
    WECOM_PARENT_CHANNEL,
    Listed,
    SyncReport,
    bind_wecom_member,
    sync_wecom,
)
from models.accounts.tables import ChannelAccount, PersonKind
from models.audit.tables import AuditEntry
from models.db.engine import Database
from models.roster.tables import Guardian, Staff
from tests.fakes.wecom_server import WecomServer
from tests.helpers.clock import FakeClock
from tests.helpers.factories import bind

if TYPE_CHECKING:
    from tests.helpers.factories import TestSchool
from tests.helpers.servers import wecom_config


def api_for(db: Database, server: WecomServer, clock: FakeClock) -> WecomApi:
    return WecomApi(db, wecom_config(server, retry_delays=(0.01,)), now=clock)


async def sync(db: Database, server: WecomServer, clock: FakeClock, school: TestSchool) -> Any:
    return await sync_wecom(
        db=db, api=api_for(db, server, clock), school_id=school.school.id or 0, now=clock()
    )


async def accounts(db: Database, channel: str) -> dict[str, tuple[str, PersonKind, int]]:
    """external_id → (chat_id, kind, person id) of every account on `channel`."""
    async with db.session() as session:
        rows = (
            await session.exec(select(ChannelAccount).where(ChannelAccount.channel == channel))
        ).all()
    return {a.external_id: (a.chat_id, a.person_kind, a.person_id) for a in rows}


async def wecom_userids(db: Database) -> dict[str, str | None]:
    async with db.session() as session:
        rows = (await session.exec(select(Staff).order_by(col(Staff.staff_no)))).all()
    return {s.name: s.wecom_userid for s in rows}


async def set_wecom_userid(db: Database, staff: Staff, userid: str) -> None:
    async with db.session() as session:
        row = await session.get(Staff, staff.id)
        assert row is not None
        row.wecom_userid = userid
        session.add(row)


async def snapshot(db: Database) -> list[tuple[Any, ...]]:
    async with db.session() as session:
        rows = (await session.exec(select(ChannelAccount).order_by(col(ChannelAccount.id)))).all()
        staff = (await session.exec(select(Staff).order_by(col(Staff.id)))).all()
    return [tuple(a.model_dump().values()) for a in rows] + [(s.id, s.wecom_userid) for s in staff]


# -- sync: matching staff -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("roster_userid", "member", "linked_to"),
    [
        pytest.param(None, ("wangfang", "王芳", "13900000001"), "王芳", id="same mobile"),
        pytest.param(None, ("wangfang", "王芳", "+86 139-0000-0001"), "王芳", id="mobile +86"),
        pytest.param(None, ("wangfang", "王老师", "8613900000001"), "王芳", id="other name"),
        pytest.param("WangFang", ("wangfang", "王芳", None), "王芳", id="roster userid, no mobile"),
        pytest.param("wangfang", ("WangFang", "王芳", "13811112222"), "王芳", id="userid wins"),
        pytest.param(None, ("stranger", "陌生人", "13811112222"), None, id="unknown mobile"),
        pytest.param(None, ("stranger", "陌生人", None), None, id="no mobile, no userid"),
    ],
)
async def test_a_member_is_linked_to_the_staff_member_the_roster_says(
    db: Database,
    wecom_server: WecomServer,
    clock: FakeClock,
    school: TestSchool,
    roster_userid: str | None,
    member: tuple[str, str, str | None],
    linked_to: str | None,
) -> None:
    if roster_userid is not None:
        await set_wecom_userid(db, school.staff["王芳"], roster_userid)
    wecom_server.add_member(*member)
    report = await sync(db, wecom_server, clock, school)
    linked = await accounts(db, WECOM_CHANNEL)
    key = member[0].lower()
    if linked_to is None:
        assert linked == {}
        assert report.unmatched_members == [Listed(member[1], "138****2222" if member[2] else "")]
        assert report.staff.linked == 0
        return
    staff = school.staff[linked_to]
    assert linked == {key: (key, PersonKind.STAFF, staff.id)}
    assert (await wecom_userids(db))[linked_to] in {roster_userid, member[0]}
    assert (report.staff.linked, report.staff.already) == (1, 0)
    assert report.unmatched_members == []


async def test_sync_sets_the_roster_userid_from_wecom(
    db: Database, wecom_server: WecomServer, clock: FakeClock, school: TestSchool
) -> None:
    wecom_server.add_member("LiQiang", "李强", "13900000002")
    await sync(db, wecom_server, clock, school)
    assert (await wecom_userids(db))["李强"] == "LiQiang"
    assert await accounts(db, WECOM_CHANNEL) == {
        "liqiang": ("liqiang", PersonKind.STAFF, school.staff["李强"].id)
    }


async def test_roster_staff_with_a_phone_missing_from_wecom_are_listed_masked(
    db: Database, wecom_server: WecomServer, clock: FakeClock, school: TestSchool
) -> None:
    wecom_server.add_member("wangfang", "王芳", "13900000001")
    report = await sync(db, wecom_server, clock, school)
    assert [p.name for p in report.staff_not_in_wecom] == ["李强", "赵敏", "钱进", "孙丽"]
    assert report.staff_not_in_wecom[0].mobile == "139****0002"


# -- sync: parents ---------------------------------------------------------------------------


async def test_parents_are_linked_by_mobile_and_siblings_share_one_account(
    db: Database, wecom_server: WecomServer, clock: FakeClock, school: TestSchool
) -> None:
    wecom_server.add_student("s1", "张小明", ("p-liumei", "妈妈", "13700000000"))
    wecom_server.add_student("s2", "张小红", ("p-liumei", "妈妈", "13700000000"))
    wecom_server.add_student("s3", "李华", ("p-x", "爸爸", "13912345678"))
    report = await sync(db, wecom_server, clock, school)
    mother = school.guardians["刘梅"]
    assert await accounts(db, WECOM_PARENT_CHANNEL) == {
        "p-liumei": ("p-liumei", PersonKind.GUARDIAN, mother.id)
    }
    assert (report.parents.linked, report.parents.already) == (1, 0)
    assert report.unmatched_parents == [Listed("李华爸爸", "139****5678")]
    assert len(report.guardians_not_in_wecom) == len(school.guardians) - 1


# -- sync: idempotence, conflicts, failures ---------------------------------------------------


async def test_running_the_sync_twice_changes_nothing_the_second_time(
    db: Database, wecom_server: WecomServer, clock: FakeClock, school: TestSchool
) -> None:
    wecom_server.add_member("wangfang", "王芳", "13900000001")
    wecom_server.add_member("liqiang", "李强", "13900000002")
    wecom_server.add_student("s1", "张小明", ("p-liumei", "妈妈", "13700000000"))
    first = await sync(db, wecom_server, clock, school)
    before = await snapshot(db)
    clock.advance(hours=1)
    second = await sync(db, wecom_server, clock, school)
    assert (first.staff.linked, first.parents.linked) == (2, 1)
    assert (second.staff.linked, second.staff.already) == (0, 2)
    assert (second.parents.linked, second.parents.already) == (0, 1)
    assert not second.changed
    assert await snapshot(db) == before
    async with db.session() as session:
        audits = (
            await session.exec(select(AuditEntry).where(AuditEntry.action == "wecom.sync"))
        ).all()
    assert len(audits) == 1
    assert "没有变化" in second.summary()


async def test_a_userid_linked_to_someone_else_is_reported_not_relinked(
    db: Database, wecom_server: WecomServer, clock: FakeClock, school: TestSchool
) -> None:
    await bind(db, clock, school.staff["李强"], channel=WECOM_CHANNEL, external_id="lisi")
    wecom_server.add_member("lisi", "王芳", "13900000001")
    report = await sync(db, wecom_server, clock, school)
    assert await accounts(db, WECOM_CHANNEL) == {
        "lisi": ("lisi", PersonKind.STAFF, school.staff["李强"].id)
    }
    assert (await wecom_userids(db))["王芳"] is None
    (conflict,) = report.member_conflicts
    assert conflict == Listed("王芳", "139****0001", "该账号已关联到教师李强")
    assert report.staff.linked == 0


async def test_a_mobile_match_does_not_override_a_different_roster_userid(
    db: Database, wecom_server: WecomServer, clock: FakeClock, school: TestSchool
) -> None:
    await set_wecom_userid(db, school.staff["王芳"], "wangfang")
    wecom_server.add_member("wf-new", "王芳", "13900000001")
    report = await sync(db, wecom_server, clock, school)
    assert await accounts(db, WECOM_CHANNEL) == {}
    assert (await wecom_userids(db))["王芳"] == "wangfang"
    (conflict,) = report.member_conflicts
    assert "“wangfang”" in conflict.reason
    assert report.staff_not_in_wecom[0].name == "李强"  # 王芳 is listed, just not linked


async def test_two_staff_with_one_phone_are_reported_and_neither_is_linked(
    db: Database, wecom_server: WecomServer, clock: FakeClock, school: TestSchool
) -> None:
    async with db.session() as session:
        row = await session.get(Staff, school.staff["李强"].id)
        assert row is not None
        row.phone = "13900000001"
        session.add(row)
    wecom_server.add_member("wangfang", "王芳", "13900000001")
    report = await sync(db, wecom_server, clock, school)
    assert await accounts(db, WECOM_CHANNEL) == {}
    (conflict,) = report.member_conflicts
    assert "王芳" in conflict.reason and "李强" in conflict.reason


async def test_two_parent_accounts_with_one_mobile_link_only_the_first(
    db: Database, wecom_server: WecomServer, clock: FakeClock, school: TestSchool
) -> None:
    wecom_server.add_student("s1", "张小明", ("p-1", "妈妈", "13700000000"))
    wecom_server.add_student("s2", "张小红", ("p-2", "妈妈", "13700000000"))
    report = await sync(db, wecom_server, clock, school)
    assert list(await accounts(db, WECOM_PARENT_CHANNEL)) == ["p-1"]
    (conflict,) = report.parent_conflicts
    assert conflict.name == "张小红妈妈"


async def test_a_parent_account_bound_to_another_guardian_stays_bound(
    db: Database, wecom_server: WecomServer, clock: FakeClock, school: TestSchool
) -> None:
    other = school.guardians["李华家长"]
    await bind(db, clock, other, channel=WECOM_PARENT_CHANNEL, external_id="p-1")
    wecom_server.add_student("s1", "张小明", ("p-1", "妈妈", "13700000000"))
    report = await sync(db, wecom_server, clock, school)
    assert await accounts(db, WECOM_PARENT_CHANNEL) == {
        "p-1": ("p-1", PersonKind.GUARDIAN, other.id)
    }
    assert report.parent_conflicts[0].reason == "该账号已关联到家长李华家长"


async def test_wecom_failing_half_way_writes_nothing(
    db: Database, wecom_server: WecomServer, clock: FakeClock, school: TestSchool
) -> None:
    wecom_server.add_member("wangfang", "王芳", "13900000001")
    wecom_server.add_student("s1", "张小明", ("p-liumei", "妈妈", "13700000000"))
    wecom_server.fail_path("school/user/list", 60011)
    before = await snapshot(db)
    with pytest.raises(WecomError) as raised:
        await sync(db, wecom_server, clock, school)
    assert raised.value.errcode == 60011
    assert [c.path for c in wecom_server.calls][-2:] == ["user/list", "school/user/list"]
    assert await snapshot(db) == before
    async with db.session() as session:
        assert (await session.exec(select(AuditEntry))).all() == []


def test_the_summary_masks_every_phone_number() -> None:
    report = SyncReport()
    report.unmatched_members.append(Listed("张三", "138****0001"))
    report.member_conflicts.append(Listed("王芳", "139****0001", "该账号已关联到教师李强"))
    report.guardians_not_in_wecom = [Listed(f"家长{i}", "137****0000") for i in range(12)]
    text = report.summary(limit=10)
    assert "张三（138****0001）" in text
    assert "王芳（139****0001）：该账号已关联到教师李强" in text
    assert "名册中有手机号、但家校通讯录未列出的家长（12 人）" in text
    assert "家长9（137****0000）、……" in text and "家长10" not in text
    assert "没有变化" in text


async def test_a_phone_number_used_as_userid_is_masked_in_a_conflict(
    db: Database, wecom_server: WecomServer, clock: FakeClock, school: TestSchool
) -> None:
    await set_wecom_userid(db, school.staff["王芳"], "13900000001")
    wecom_server.add_member("wf", "王芳", "13900000001")
    report = await sync(db, wecom_server, clock, school)
    assert "13900000001" not in report.summary()
    assert "139****0001" in report.member_conflicts[0].reason


# -- bind_wecom_member -------------------------------------------------------------------------


async def test_a_member_is_bound_by_the_roster_userid_whatever_its_case(
    db: Database, clock: FakeClock, school: TestSchool
) -> None:
    await set_wecom_userid(db, school.staff["王芳"], "WangFang")
    async with db.session() as session:
        account = await bind_wecom_member(
            session=session, school_id=school.school.id or 0, userid="wangfang", now=clock()
        )
    assert account is not None
    assert (account.channel, account.external_id, account.chat_id) == (
        "wecom",
        "wangfang",
        "wangfang",
    )
    assert (account.person_kind, account.person_id) == (PersonKind.STAFF, school.staff["王芳"].id)
    async with db.session() as session:
        again = await bind_wecom_member(
            session=session, school_id=school.school.id or 0, userid="WANGFANG", now=clock()
        )
        binds = (
            await session.exec(select(AuditEntry).where(AuditEntry.action == "account.bind"))
        ).all()
    assert again is not None and again.id == account.id
    assert len(binds) == 1
    assert len(await accounts(db, WECOM_CHANNEL)) == 1


async def test_an_unknown_userid_binds_nobody(
    db: Database, clock: FakeClock, school: TestSchool
) -> None:
    await set_wecom_userid(db, school.staff["王芳"], "wangfang")
    async with db.session() as session:
        account = await bind_wecom_member(
            session=session, school_id=school.school.id or 0, userid="nobody", now=clock()
        )
    assert account is None
    assert await accounts(db, WECOM_CHANNEL) == {}


async def test_a_staff_member_who_left_is_not_bound(
    db: Database, clock: FakeClock, school: TestSchool
) -> None:
    await set_wecom_userid(db, school.staff["王芳"], "wangfang")
    async with db.session() as session:
        row = await session.get(Staff, school.staff["王芳"].id)
        assert row is not None
        row.active = False
        session.add(row)
    async with db.session() as session:
        account = await bind_wecom_member(
            session=session, school_id=school.school.id or 0, userid="wangfang", now=clock()
        )
    assert account is None


async def test_an_account_made_by_the_sync_is_returned_as_is(
    db: Database, wecom_server: WecomServer, clock: FakeClock, school: TestSchool
) -> None:
    wecom_server.add_member("zhaomin", "赵敏", "13900000003")
    await sync(db, wecom_server, clock, school)
    async with db.session() as session:
        account = await bind_wecom_member(
            session=session, school_id=school.school.id or 0, userid="zhaomin", now=clock()
        )
    assert account is not None
    assert account.person_id == school.staff["赵敏"].id


async def test_a_second_callback_binding_at_the_same_time_gets_the_first_ones_account(
    db: Database, clock: FakeClock, school: TestSchool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The other callback inserted between this one's look-up and its insert."""
    await set_wecom_userid(db, school.staff["王芳"], "wangfang")
    school_id = school.school.id or 0
    async with db.session() as session:
        first = await bind_wecom_member(
            session=session, school_id=school_id, userid="wangfang", now=clock()
        )
    assert first is not None
    lookups: list[str] = []
    real_lookup = identity._account_by_userid

    async def stale_first_lookup(**kwargs: Any) -> ChannelAccount | None:
        lookups.append(kwargs["userid"])
        return None if len(lookups) == 1 else await real_lookup(**kwargs)

    monkeypatch.setattr(identity, "_account_by_userid", stale_first_lookup)
    async with db.session() as session:
        second = await bind_wecom_member(
            session=session, school_id=school_id, userid="wangfang", now=clock()
        )
        # The transaction is still usable after the refused insert.
        assert await session.get(Guardian, school.guardians["刘梅"].id) is not None
    assert len(lookups) == 2
    assert second is not None and second.id == first.id
    assert len(await accounts(db, WECOM_CHANNEL)) == 1
