"""What the command-line commands share: the school they act on, and how a refused file is
reported (every problem on its own line, then that nothing was changed)."""

from __future__ import annotations

import socket
import sys
from collections.abc import Sequence

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from models.db.engine import Database
from models.roster.queries import current_school
from models.school.tables import School

NO_SCHOOL = "数据库中还没有学校：请先导入名单（python -m bot roster import …）。"

#: Errors that may mean a database cannot be reached or opened (a wrong DATABASE_URL, a server
#: that is down, a folder that does not exist): the operator's to fix, told in one line.
UNREACHABLE_DATABASE = (ConnectionError, TimeoutError, socket.gaierror, DBAPIError)

#: SQLSTATE classes of a refused connection: 08 connection, 28 authorisation, 3D no database.
_REFUSED_CONNECTION = ("08", "28", "3D")


def is_unreachable(error: BaseException) -> bool:
    """Whether `error` (one of `UNREACHABLE_DATABASE`) says the database could not be reached."""
    if isinstance(error, OperationalError | InterfaceError):
        return True
    if isinstance(error, DBAPIError):
        cause = error.orig.__cause__ if error.orig is not None else None
        sqlstate = getattr(cause, "sqlstate", None) or getattr(error.orig, "sqlstate", None)
        return isinstance(sqlstate, str) and sqlstate.startswith(_REFUSED_CONNECTION)
    return True


def unreachable_database(error: BaseException) -> str:
    """One line for an unreachable database: what to check, and the error's kind (never its
    message, which may quote a statement)."""
    return (
        f"无法连接或打开数据库（{type(error).__name__}）。请检查 DATABASE_URL："
        "服务器地址、端口、用户名和数据库名是否正确，数据库是否在运行；SQLite 文件所在的文件夹是否存在。"
    )


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
