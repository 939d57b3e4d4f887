"""The console channel: a terminal chat over the same `Dispatcher` every messenger uses.

With no messenger configured, `python -m bot run` lands here, so a newcomer can log a visit on
the demo school within a minute. The person at the terminal *plays* someone from the roster —
by default the head teacher of 三(2)班 — and can switch with `/as 工号` (a demo convenience that
exists only here; real channels bind people through invites). Buttons are shown as numbered
lines, and typing a number presses a button of the latest message that has any, for the person
being played: the current question (the dispatcher maps "2" to its second choice), a flow's last
message, or a message pushed to them (批准 / 退回, 确认收到, 查看记录). A number that matches
nothing says so.

Input is read by a daemon thread (so Ctrl-C and EOF always end the program promptly) and handed
to the event loop one line at a time; piped input works the same as a terminal, without prompts.
Outbox messages for console accounts (an admin alert, a timeout notice) are printed with whom
they are for, because everyone shares this one screen.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import tempfile
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.channels.text import capped
from handlers.actions import parse_action
from handlers.dispatcher import Dispatcher
from handlers.i18n import N_, Translator, translator
from handlers.types import Button, Inbound, Reply
from models.accounts.invites import bind_account
from models.accounts.tables import PersonKind
from models.audit.tables import audit
from models.roster.phones import normalise_phone
from models.roster.queries import (
    account_for,
    active_staff,
    current_school,
    person_for,
    staff_with_role,
)
from models.roster.tables import Guardian, Staff, StaffRole, Student, StudentGuardian
from models.school.tables import Group, GroupCoach, School, SchoolClass

CHANNEL = "console"
#: The class whose head teacher the console plays at start: 三(2)班.
DEFAULT_CLASS = (3, 2)
#: Parents listed by `/as` (the first students of the default class, with their first guardian).
SAMPLE_PARENTS = 3
QUIT_WORDS = frozenset({"/quit", "/exit", "退出"})
#: A typed (or piped) line is held to what the largest messenger carries, Telegram's 4,096
#: characters: longer is refused with a note, as on the messengers.
TEXT_LIMIT = 4096

ROLE_LABELS = {
    StaffRole.ADMIN: N_("德育处"),
    StaffRole.PRINCIPAL: N_("校长"),
    StaffRole.CARE: N_("关爱室"),
    StaffRole.DISTRICT: N_("区域管理员"),
}


@dataclass(frozen=True)
class Persona:
    """Who the person at the terminal is playing; `external_id` is also their chat id."""

    kind: PersonKind
    person_id: int
    name: str
    #: 工号 for staff, the phone's last four digits for a guardian (never the whole number).
    handle: str

    @property
    def external_id(self) -> str:
        return f"{self.kind.value}-{self.person_id}"


def render(reply: Reply) -> str:
    """A reply as terminal text: the message, then its buttons as numbered lines.

    Numbering runs across rows in reading order, the order in which the dispatcher maps a typed
    number back to a button.
    """
    lines = [reply.text]
    number = 0
    for row in reply.buttons:
        cells = []
        for button in row:
            number += 1
            cells.append(f"{number}) {button.label}")
        lines.append("  " + "   ".join(cells))
    return "\n".join(lines)


class ConsoleChannel:
    """Reads lines, drives the dispatcher, prints replies; also a `Channel` for the outbox."""

    name = CHANNEL
    rate_per_second = 100.0
    rate_per_chat_per_second = 100.0

    def __init__(
        self,
        dispatcher: Dispatcher,
        *,
        stdin: TextIO | None = None,
        stdout: TextIO | None = None,
        language: str = "zh",
        image_dir: Path | None = None,
    ) -> None:
        self.dispatcher = dispatcher
        self.db = dispatcher.db
        self.stdin = stdin if stdin is not None else sys.stdin
        self.stdout = stdout if stdout is not None else sys.stdout
        self.t: Translator = translator(language)
        self.persona: Persona | None = None
        #: Delivers what is due in the outbox now (set by the runner). Called before exiting,
        #: and after every line of piped input so alerts appear where they were caused.
        self.flush: Callable[[], Awaitable[object]] | None = None
        #: A terminal gets prompts and line editing; piped input gets neither.
        self.interactive = self.stdin is sys.stdin and _isatty(self.stdin)
        self._waiting = False
        #: Where pictures sent with replies are written (default: a temporary folder, made when
        #: the first picture arrives).
        self._image_dir = image_dir
        #: Per person played (chat id): the buttons of the latest message to them that had any.
        self._pressable: dict[str, list[Button]] = {}

    # -- the Channel protocol (outbox delivery) ------------------------------------------------

    async def send(self, chat_id: str, reply: Reply) -> None:
        label = await self._recipient_label(chat_id)
        prefix = "\n" if self._waiting and self.interactive else ""
        self._print(prefix + self.t._("[发给 {who}] ").format(who=label) + self._render(reply))
        if reply.buttons:
            self._pressable[chat_id] = _flat(reply)
        if self._waiting and self.interactive:
            self.stdout.write(self._prompt())
            self.stdout.flush()

    # -- the chat loop -------------------------------------------------------------------------

    async def run(self) -> None:
        """Greet, then handle lines until EOF or /quit (Ctrl-C ends it from outside)."""
        await self.play_default()
        self._print(self._banner())
        if self.persona is not None:
            await self._say("/start", greeting=True)
        lines = _LineReader(self.stdin, use_input=self.interactive)
        while True:
            self._waiting = True
            line = await lines.next(self._prompt() if self.interactive else "")
            self._waiting = False
            if line is None:
                break
            text = line.strip()
            if not text:
                continue
            if text in QUIT_WORDS:
                break
            if not await self._console_command(text) and not await self._press(text):
                await self._say(text)
                if not self.interactive and self.flush is not None:
                    await self.flush()
        if self.flush is not None:
            await self.flush()
        self._print(self.t._("再见！"))

    async def _say(
        self, text: str | None, *, callback: str | None = None, greeting: bool = False
    ) -> None:
        """Hand the line (or a pressed button) to the dispatcher and print the answer. The
        greeting printed on switching person leaves their latest buttons pressable."""
        persona = self.persona
        user = persona.external_id if persona is not None else "guest"
        text, cut = capped(text, TEXT_LIMIT) if text is not None else (None, False)
        inbound = Inbound(
            channel=CHANNEL,
            user_id=user,
            chat_id=user,
            text=text,
            text_cut=cut,
            callback=callback,
            display_name=persona.name if persona is not None else "",
        )
        response = await self.dispatcher.handle(inbound)
        if response.chosen is not None:
            self._print(self.t._("（已选：{label}）").format(label=response.chosen))
        for reply in response.replies:
            self._print(self._render(reply))
        with_buttons = [reply for reply in response.replies if reply.buttons]
        if with_buttons:
            self._pressable[user] = _flat(with_buttons[-1])
        elif response.replies and not greeting:
            self._pressable.pop(user, None)

    async def _press(self, text: str) -> bool:
        """A typed number for a button of the latest message with any: pressed here when it is
        an action (a flow's last message, a pushed one); a question's choice is left to the
        dispatcher, which maps the number to the conversation's choices. False: not a press."""
        number = _typed_number(text)
        persona = self.persona
        if number is None or persona is None:
            return False
        buttons = self._pressable.get(persona.external_id)
        if not buttons:
            return False
        if not 1 <= number <= len(buttons):
            self._print(
                self.t._("没有第 {number} 项。最近一条带按钮的消息可选 1–{last}。").format(
                    number=number, last=len(buttons)
                )
            )
            return True
        button = buttons[number - 1]
        if parse_action(button.data) is None:
            return False
        self._print(self.t._("（已选：{label}）").format(label=button.label))
        await self._say(None, callback=button.data)
        return True

    async def _console_command(self, text: str) -> bool:
        """`/as …` and `/whoami`, which only the console has; False for anything else."""
        head, _sep, args = text.partition(" ")
        head = head.lower()
        if head == "/whoami":
            self._print(self._whoami())
            return True
        if head == "/as":
            if not args.strip():
                self._print(await self._cast_list())
                return True
            persona = await self.play(args.strip())
            if persona is None:
                self._print(
                    self.t._(
                        "没有找到“{key}”。请输入工号、教职工姓名、学号（扮演该生的第一位家长）"
                        "或家长手机号；只输入 /as 可列出全部教职工。"
                    ).format(key=args.strip())
                )
            else:
                await self._say("/start", greeting=True)
            return True
        return False

    # -- who is playing ------------------------------------------------------------------------

    async def play_default(self) -> Persona | None:
        """Bind the terminal to the head teacher of 三(2)班 (or the first staff member).

        The school's 德育处 admins get console accounts too, so what the bot sends them (a
        problem that needs the school) is printed as `[发给 …]` in the demo.
        """
        async with self.db.session() as session:
            school = await self._school(session)
            staff = await _default_staff(session, school) if school is not None else None
            if school is None or staff is None:
                return None
            for admin in await staff_with_role(
                session=session, school_id=school.id or 0, role=StaffRole.ADMIN
            ):
                await self._bind(session, school, admin)
            self.persona = await self._bind(session, school, staff)
        return self.persona

    async def play(self, key: str) -> Persona | None:
        """Switch to the person named by 工号, staff name, 学号 or guardian phone."""
        async with self.db.session() as session:
            school = await self._school(session)
            if school is None:
                return None
            person = await _find_person(session, school, key)
            if person is None:
                return None
            self.persona = await self._bind(session, school, person)
        return self.persona

    async def _school(self, session: AsyncSession) -> School | None:
        return await current_school(session=session, name=self.dispatcher.school_name)

    async def _bind(
        self, session: AsyncSession, school: School, person: Staff | Guardian
    ) -> Persona:
        if isinstance(person, Staff):
            persona = Persona(PersonKind.STAFF, person.id or 0, person.name, person.staff_no)
        else:
            persona = Persona(PersonKind.GUARDIAN, person.id or 0, person.name, person.phone[-4:])
        existing = await account_for(
            session=session,
            school_id=school.id or 0,
            channel=CHANNEL,
            external_id=persona.external_id,
        )
        await bind_account(
            session=session,
            channel=CHANNEL,
            external_id=persona.external_id,
            chat_id=persona.external_id,
            school_id=school.id or 0,
            kind=persona.kind,
            person_id=persona.person_id,
            language=existing.language if existing is not None else self.t.language,
            now=self.dispatcher.clock(),
        )
        if existing is None:
            await audit(
                session=session,
                actor=f"{persona.kind.value}:{persona.person_id}",
                action="account.bind",
                subject=f"{CHANNEL}:{persona.external_id}",
                detail="console",
            )
        return persona

    async def _recipient_label(self, chat_id: str) -> str:
        async with self.db.session() as session:
            school = await self._school(session)
            if school is None:
                return chat_id
            account = await account_for(
                session=session, school_id=school.id or 0, channel=CHANNEL, external_id=chat_id
            )
            person = await person_for(session=session, account=account) if account else None
        if person is None:
            return chat_id
        if self.persona is not None and chat_id == self.persona.external_id:
            return self.t._("{name}（您）").format(name=person.name)
        return person.name

    async def _cast_list(self) -> str:
        async with self.db.session() as session:
            school = await self._school(session)
            if school is None:
                return self.t._("还没有学校名册。")
            staff = await active_staff(session=session, school_id=school.id or 0)
            parents = await _sample_parents(session, school)
            coached = await _teams_coached(session, school)
            heads = {
                head_id: name
                for head_id, name in (
                    await session.exec(
                        select(SchoolClass.head_teacher_id, SchoolClass.name).where(
                            SchoolClass.school_id == school.id
                        )
                    )
                ).all()
            }
        lines = [self.t._("可以扮演的教职工（/as 工号）：")]
        for person in staff:
            duties = (
                [self.t._("{cls}班主任").format(cls=heads[person.id])] if person.id in heads else []
            )
            duties += [
                self.t._("{team}教练").format(team=team) for team in coached.get(person.id or 0, [])
            ]
            duties += [self.t._(ROLE_LABELS[r]) for r in sorted(person.role_set())]
            suffix = (
                self.t._("（{duties}）").format(duties=self.t._("、").join(duties))
                if duties
                else ""
            )
            lines.append(f"  {person.staff_no} {person.name}{suffix}")
        lines.append(self.t._("扮演家长：/as 学号（该生的第一位家长）或 /as 家长手机号"))
        if parents:
            lines.append(self.t._("例如："))
        for student_no, guardian, klass, student, relation in parents:
            lines.append(
                "  "
                + self.t._("/as {no} — {guardian}（{klass}{student}的{relation}）").format(
                    no=student_no,
                    guardian=guardian,
                    klass=klass,
                    student=student,
                    relation=relation or self.t._("家长"),
                )
            )
        return "\n".join(lines)

    # -- text ----------------------------------------------------------------------------------

    def _whoami(self) -> str:
        persona = self.persona
        if persona is None:
            return self.t._("您现在没有扮演任何人。输入 /as 工号 选择一位教职工。")
        if persona.kind is PersonKind.STAFF:
            return self.t._("您现在是 {name}（教职工，工号 {no}）。").format(
                name=persona.name, no=persona.handle
            )
        return self.t._("您现在是 {name}（家长，手机尾号 {tail}）。").format(
            name=persona.name, tail=persona.handle
        )

    def _banner(self) -> str:
        _ = self.t._
        rule = "═" * 40
        who = (
            self._whoami()
            if self.persona is not None
            else _("学校名册里还没有教职工：请先导入名册（python -m bot roster import …）。")
        )
        return "\n".join(
            [
                rule,
                _("家访助手 · 控制台（示范用）"),
                rule,
                who,
                _("可以这样试："),
                _("  /visit            一步步记录一次家访（输入数字选择选项）"),
                _("  今天上门家访了三(2)班张小明，见了奶奶   用一句话记录家访"),
                _("  /help             查看全部功能"),
                _("  /as 工号          换一个人，例如 /as A01（德育处）；只输入 /as 列出可选的人"),
                _("  /whoami           查看现在的身份"),
                _("  /quit             退出（Ctrl-D、Ctrl-C 也可以）"),
                rule,
            ]
        )

    def _render(self, reply: Reply) -> str:
        """`render`, plus where a picture sent with the reply was saved (a terminal shows none)."""
        text = render(reply)
        image = reply.image
        if image is None:
            return text
        if not image.data:
            return text + "\n" + self.t._("[图片：{name}（未能读取）]").format(name=image.filename)
        if self._image_dir is None:
            self._image_dir = Path(tempfile.mkdtemp(prefix="jiafang-console-"))
        self._image_dir.mkdir(parents=True, exist_ok=True)
        path = self._image_dir / Path(image.filename).name
        path.write_bytes(image.data)
        return text + "\n" + self.t._("[图片：已保存到 {path}]").format(path=path)

    def _prompt(self) -> str:
        return f"{self.persona.name if self.persona else '?'}> "

    def _print(self, text: str) -> None:
        self.stdout.write(text + "\n")
        self.stdout.flush()


class _LineReader:
    """Lines from a stream, read on a daemon thread one at a time, as the loop asks for them.

    Reading on demand keeps prompts in order on a terminal; a daemon thread never holds up exit
    when Ctrl-C arrives while it waits for input.
    """

    def __init__(self, stream: TextIO, *, use_input: bool) -> None:
        self.stream = stream
        self.use_input = use_input
        self._eof = False

    async def next(self, prompt: str) -> str | None:
        if self._eof:
            return None
        loop = asyncio.get_running_loop()
        future: asyncio.Future[str | None] = loop.create_future()

        def read() -> None:
            try:
                line: str | None = self._read(prompt)
            except (EOFError, OSError, ValueError):
                line = None
            # RuntimeError: the loop has closed, nobody is waiting for this line any more.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(_settle, future, line)

        threading.Thread(target=read, name="console-input", daemon=True).start()
        line = await future
        if line is None:
            self._eof = True
        return line

    def _read(self, prompt: str) -> str | None:
        if self.use_input:
            return input(prompt)
        line = self.stream.readline()
        return line if line else None


def _flat(reply: Reply) -> list[Button]:
    """The reply's buttons in the order `render` numbers them."""
    return [button for row in reply.buttons for button in row]


def _typed_number(text: str) -> int | None:
    """`2`, or the input method's full-width `２` (`int` reads any decimal digits); None for
    anything else."""
    digits = text.strip()
    return int(digits) if digits.isdecimal() else None


def _settle(future: asyncio.Future[str | None], line: str | None) -> None:
    if not future.done():
        future.set_result(line)


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


async def _default_staff(session: AsyncSession, school: School) -> Staff | None:
    grade, number = DEFAULT_CLASS
    head = (
        await session.exec(
            select(Staff)
            .join(SchoolClass, col(SchoolClass.head_teacher_id) == col(Staff.id))
            .where(SchoolClass.school_id == school.id, col(Staff.active))
            .order_by(
                (col(SchoolClass.grade) != grade) | (col(SchoolClass.number) != number),
                col(SchoolClass.grade),
                col(SchoolClass.number),
            )
        )
    ).first()
    if head is not None:
        return head
    query = select(Staff).where(Staff.school_id == school.id, col(Staff.active))
    return (await session.exec(query.order_by(col(Staff.id)))).first()


async def _sample_parents(
    session: AsyncSession, school: School
) -> list[tuple[str, str, str, str, str]]:
    """(学号, guardian, class, student, relation) of the first students of the default class
    (or of the first class), each with their first guardian."""
    grade, number = DEFAULT_CLASS
    rows = (
        await session.exec(
            select(Student, SchoolClass, Guardian, StudentGuardian)
            .join(SchoolClass, col(SchoolClass.id) == col(Student.class_id))
            .join(StudentGuardian, col(StudentGuardian.student_id) == col(Student.id))
            .join(Guardian, col(Guardian.id) == col(StudentGuardian.guardian_id))
            .where(Student.school_id == school.id, col(Student.active))
            .order_by(
                (col(SchoolClass.grade) != grade) | (col(SchoolClass.number) != number),
                col(SchoolClass.grade),
                col(SchoolClass.number),
                col(Student.student_no),
                col(StudentGuardian.position),
            )
            .limit(SAMPLE_PARENTS * 3)
        )
    ).all()
    chosen: dict[str, tuple[str, str, str, str, str]] = {}
    for student, klass, guardian, link in rows:
        if student.student_no not in chosen and len(chosen) < SAMPLE_PARENTS:
            chosen[student.student_no] = (
                student.student_no,
                guardian.name,
                klass.name,
                student.name,
                link.relation,
            )
    return list(chosen.values())


async def _teams_coached(session: AsyncSession, school: School) -> dict[int, list[str]]:
    """Staff id → the names of the teams and groups they coach."""
    rows = (
        await session.exec(
            select(GroupCoach.staff_id, Group.name)
            .join(Group, col(Group.id) == col(GroupCoach.group_id))
            .where(Group.school_id == school.id)
            .order_by(col(Group.name))
        )
    ).all()
    coached: dict[int, list[str]] = {}
    for staff_id, name in rows:
        coached.setdefault(staff_id, []).append(name)
    return coached


async def _find_person(session: AsyncSession, school: School, key: str) -> Staff | Guardian | None:
    staff_query = select(Staff).where(Staff.school_id == school.id, col(Staff.active))
    for condition in (Staff.staff_no == key, Staff.staff_no == key.upper(), Staff.name == key):
        staff = (await session.exec(staff_query.where(condition))).first()
        if staff is not None:
            return staff
    guardian = (
        await session.exec(
            select(Guardian)
            .join(StudentGuardian, col(StudentGuardian.guardian_id) == col(Guardian.id))
            .join(Student, col(Student.id) == col(StudentGuardian.student_id))
            .where(Student.school_id == school.id, Student.student_no == key)
            .order_by(col(StudentGuardian.position))
        )
    ).first()
    if guardian is not None:
        return guardian
    phone = normalise_phone(key)
    if not phone:
        return None
    query = select(Guardian).where(Guardian.school_id == school.id, Guardian.phone == phone)
    return (await session.exec(query)).first()
