"""A guardian's consent (PIPL: the data of a child under 14 is sensitive; the guardian agrees).

`CONSENT_VERSION` names the wording below. A guardian is asked once per version: when the wording
changes, change the version and everyone is asked again. The wording says in plain words what the
school stores about the child and why, how long, who can see it, and the guardian's rights. It is
a list of paragraphs (msgids, translated where shown) with the placeholders `{school}`,
`{years}` (the retention of visits, incidents and receipts after a child leaves) and
`{audit_years}`.

Recording is idempotent (one row per guardian and version); each new agreement is audited.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.audit.tables import audit
from models.privacy.tables import GuardianConsent
from models.school.rules import SchoolRules
from models.text import N_

#: The wording in force. Change it (e.g. to "2027-09") whenever `CONSENT_PARAGRAPHS` change.
CONSENT_VERSION = "2026-12"

#: What the guardian types or presses to agree.
AGREE_WORD = N_("同意")

CONSENT_TITLE = N_("【{school}：家长知情同意】")

CONSENT_PARAGRAPHS: tuple[str, ...] = (
    N_("为了做好家校联系，学校在本系统中保存您孩子的以下信息："),
    N_("· 名册：孩子的姓名、班级、学号，家长的姓名、与孩子的关系和手机号；"),
    N_("· 家访记录：家访的日期、方式，哪位老师家访，谈了哪些内容；"),
    N_("· 学校发给您的通知，以及您的回执（确认收到）；"),
    N_("· 与孩子有关的突发事件记录；"),
    N_("· 您提交的意见、投诉和表扬。"),
    N_("为什么保存：只用于家校联系、家访和学校对孩子的教育与关爱，不用于其他目的，不向校外提供。"),
    N_(
        "谁能看到：班主任和任课老师只能看到自己所教班级的学生；德育处和校长可以查看全校；"
        "需要特别关爱的记录只有关爱室老师和校长能看到。"
    ),
    N_(
        "保存多久：孩子离校 {years} 年后，家访、突发事件等记录中的文字内容会被删除（只留下日期等统计信息），"
        "回执会被删除；系统的操作记录保存 {audit_years} 年。"
    ),
    N_("您的权利：随时发送 /mydata 查看学校保存的孩子信息；发现有误，可以申请更正。"),
    N_(
        "孩子未满 14 周岁，按照《个人信息保护法》，需要您作为监护人同意。"
        "请点击“同意”（或回复“同意”）后继续使用。在您同意之前，学校的紧急情况通知仍会照常发给您。"
    ),
)


def version_number(version: str = CONSENT_VERSION) -> int:
    """The version as digits ("2026-12" → 202612), what the 同意 button carries."""
    return int("".join(ch for ch in version if ch.isdigit()) or "0")


def wording_values(school_name: str, rules: SchoolRules) -> dict[str, object]:
    """The values of the wording's placeholders."""
    years = max(
        rules.retention_visits_years,
        rules.retention_incidents_years,
        rules.retention_receipts_years,
    )
    return {"school": school_name, "years": years, "audit_years": rules.retention_audit_years}


async def consent_of(
    *, session: AsyncSession, guardian_id: int, version: str = CONSENT_VERSION
) -> GuardianConsent | None:
    """The guardian's agreement to `version`, if given."""
    query = select(GuardianConsent).where(
        col(GuardianConsent.guardian_id) == guardian_id, col(GuardianConsent.version) == version
    )
    return (await session.exec(query)).first()


async def has_consented(
    *, session: AsyncSession, guardian_id: int, version: str = CONSENT_VERSION
) -> bool:
    query = select(col(GuardianConsent.id)).where(
        col(GuardianConsent.guardian_id) == guardian_id, col(GuardianConsent.version) == version
    )
    return (await session.exec(query)).first() is not None


async def record_consent(
    *,
    session: AsyncSession,
    school_id: int,
    guardian_id: int,
    channel: str,
    now: datetime,
    version: str = CONSENT_VERSION,
) -> bool:
    """Record the guardian's agreement to `version` (audited); False when it was already
    recorded (a second press, a redelivery), and nothing is written then."""
    table = GuardianConsent.__table__  # type: ignore[attr-defined]
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    upsert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = (
        upsert(table)
        .values(
            school_id=school_id,
            guardian_id=guardian_id,
            version=version,
            agreed_at=now,
            channel=channel[:16],
        )
        .on_conflict_do_nothing(index_elements=["guardian_id", "version"])
        .returning(table.c.id)
    )
    added = (await session.exec(statement)).first()
    if added is None:
        return False
    await audit(
        session=session,
        actor=f"guardian:{guardian_id}",
        action="consent.agree",
        subject=f"guardian:{guardian_id}",
        detail=f"version {version} via {channel}",
    )
    return True
