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

#: Errors that may mean the database is the operator's to fix (a wrong DATABASE_URL, a server
#: that is down, a folder that does not exist, a schema not upgraded), told in one line.
DATABASE_ERRORS = (ConnectionError, TimeoutError, socket.gaierror, DBAPIError)

#: SQLSTATE classes of a refused connection: 08 connection, 28 authorisation, 3D no database.
_REFUSED_CONNECTION = ("08", "28", "3D")
#: SQLSTATE of a table that does not exist (the schema is older than the code).
_UNDEFINED_TABLE = "42P01"

_UNREACHABLE = (
    "无法连接或打开数据库（{kind}）。请检查 DATABASE_URL：服务器地址、端口、用户名和数据库名"
    "是否正确，数据库是否在运行；SQLite 文件所在的文件夹是否存在。"
)
_NOT_UPGRADED = "数据库还不是当前版本（缺少数据表）：请先运行 python -m bot db upgrade。"


def database_problem(error: BaseException) -> str | None:
    """One line for a database the operator must fix (unreachable, or not upgraded), or None
    when `error` is something else (a fault of the program, shown as such). Only the error's
    kind is named, never its message, which may quote a statement."""
    if isinstance(error, ConnectionError | TimeoutError | socket.gaierror | InterfaceError):
        return _UNREACHABLE.format(kind=type(error).__name__)
    if not isinstance(error, DBAPIError):
        return None
    cause = error.orig.__cause__ if error.orig is not None else None
    sqlstate = getattr(cause, "sqlstate", None) or getattr(error.orig, "sqlstate", None)
    if isinstance(sqlstate, str):
        if sqlstate == _UNDEFINED_TABLE:
            return _NOT_UPGRADED
        if sqlstate.startswith(_REFUSED_CONNECTION):
            return _UNREACHABLE.format(kind=type(error).__name__)
        return None
    if isinstance(error, OperationalError):  # SQLite says what went wrong only in words
        said = str(error.orig).lower()
        if "no such table" in said:
            return _NOT_UPGRADED
        if "unable to open database" in said:
            return _UNREACHABLE.format(kind=type(error).__name__)
    return None


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
