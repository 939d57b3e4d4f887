"""What the command-line commands share: the school they act on, and how a refused file is
reported (every problem on its own line, then that nothing was changed)."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from models.db.engine import Database
from models.roster.queries import current_school
from models.school.tables import School

NO_SCHOOL = "数据库中还没有学校：请先导入名单（python -m bot roster import …）。"


async def school_or_say(db: Database, name: str) -> School | None:
    """The school named (or the only one); None, having said so on stderr, when there is none."""
    async with db.session() as session:
        school = await current_school(session=session, name=name)
    if school is None or school.id is None:
        print(NO_SCHOOL, file=sys.stderr)
        return None
    return school


def refused(problems: Sequence[str], what: str) -> int:
    """Print a file's problems and that `what` (名单, 校历) was not imported; exit status 1."""
    for problem in problems:
        print(problem, file=sys.stderr)
    print(f"{what}未导入，数据库没有任何改动。请修改以上问题后重新导入。", file=sys.stderr)
    return 1
