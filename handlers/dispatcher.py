"""The conversation engine every channel drives: `Inbound` in, `Response` out.

It keeps `(channel, user) → (flow, state, draft)` in the `conversation` table and commits it in
the same transaction as whatever the step wrote, so a restart between two messages loses nothing
and a half-finished step saves nothing. Redelivered updates (same `update_key`) are no-ops.

Between a user's updates it keeps what it read about them (`handlers.conversation_store`): the
next update of a conversation reads nothing before its step, and a copy found out of date is read
again and the update handled afresh (`StaleConversation`).
"""

from __future__ import annotations

import functools
import logging
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers import commands, drafts, onboarding
from handlers.actions import Action, is_record_argument, parse_action
from handlers.context import Context
from handlers.conversation_store import ConversationStore, UserTurn
from handlers.flow import Flow
from handlers.going_back import (
    EngineNotes,
    Pending,
    choices_of,
    is_back_word,
    join,
    moved_on,
    split,
    stored_replies,
)
from handlers.i18n import Translator, normalise_language, translator
from handlers.permissions import gated_actions, gated_flows
from handlers.privacy import consent
from handlers.types import Inbound, Reply, Transition
from models.conversations.store import (
    Conversation,
    ConversationState,
    StaleConversation,
    claim_update,
)
from models.db.columns import utcnow
from models.db.engine import Database
from models.db.update_tx import AlreadyHandled, KeptReadsMoved, UpdateTx
from models.errors import error_ref
from models.outbox.tables import enqueue
from models.roster.queries import account_for, current_school
from models.school.rules import DEFAULT_RULES, SchoolRules
from models.school.tables import School

log = logging.getLogger(__name__)

#: Channels that show buttons as numbered lines, where "2" means the second button.
NUMBERED_CHANNELS = frozenset({"console", "wecom"})
#: Digits of a typed button number (no message has a hundred buttons).
MAX_BUTTON_DIGITS = 2
#: How many times an update is handled at most when the database refused it having saved
#: nothing (a stale copy of the conversation, the roster changed meanwhile).
HANDLE_ATTEMPTS = 4
#: How long the school row is kept in memory between reads.
SCHOOL_CACHE_SECONDS = 60.0

#: Control characters no one types: NUL (which PostgreSQL refuses in text) and the other C0
#: codes but tab and line breaks. They are dropped from what people send before anything reads it.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
#: The longest file reference kept (the attachment and photo columns hold 200 characters; a
#: Telegram file_id or a WeCom media_id is far shorter).
FILE_REF_LIMIT = 200


#: The text fields of an update that people (or their messenger) fill in.
_TEXT_FIELDS = ("text", "callback", "contact_phone", "photo")


def without_controls(inbound: Inbound) -> Inbound:
    """`inbound` with control characters dropped from its text, button data, contact and files
    (the same object when there were none, as there almost never are)."""
    changes: dict[str, object] = {
        name: _CONTROL.sub("", value)
        for name in _TEXT_FIELDS
        if isinstance(value := getattr(inbound, name), str) and _CONTROL.search(value)
    }
    document = inbound.document
    if document is not None and (_CONTROL.search(document.ref) or _CONTROL.search(document.name)):
        changes["document"] = replace(
            document, ref=_CONTROL.sub("", document.ref), name=_CONTROL.sub("", document.name)
        )
    return replace(inbound, **changes) if changes else inbound  # type: ignore[arg-type]


def usable_files(inbound: Inbound) -> bool:
    """Whether the photo or document sent (if any) can be kept: a reference of a messenger's
    length, and no size below zero."""
    refs = [inbound.photo] if inbound.photo is not None else []
    document = inbound.document
    if document is not None:
        if document.size is not None and document.size < 0:
            return False
        refs.append(document.ref)
    return all(0 < len(ref) <= FILE_REF_LIMIT for ref in refs)


@dataclass
class Response:
    """What the channel shows: new replies, and the label of the button that was pressed."""

    replies: list[Reply] = field(default_factory=list)
    chosen: str | None = None
    #: Whether the update queued messages in the outbox (the delivery worker is woken then).
    queued: bool = False
    #: The update was an action button (`handlers.actions`): any conversation is untouched.
    action: bool = False


@dataclass(frozen=True)
class Command:
    name: str
    args: str


def parse_command(text: str, keywords: dict[str, str]) -> Command | None:
    """`/visit 张三` or `/visit@jiafang_bot` or a bare keyword such as `家访` → a command. The
    full-width slash of Chinese input methods (`／visit`) is a slash."""
    stripped = text.strip()
    if stripped.startswith(("/", "／")):
        head, _, args = stripped[1:].partition(" ")
        name = head.split("@", 1)[0].lower()
        return Command(keywords.get(name, name), args.strip()) if name else None
    head, _, args = stripped.partition(" ")
    if head in keywords:
        return Command(keywords[head], args.strip())
    return None


class Dispatcher:
    def __init__(
        self,
        db: Database,
        flows: Sequence[Flow],
        *,
        zone: ZoneInfo,
        school_name: str | None = None,
        timeout: timedelta = timedelta(minutes=30),
        bot_username: str | None = None,
        clock: Callable[[], datetime] = utcnow,
        actions: Sequence[Action] = (),
        rules: SchoolRules = DEFAULT_RULES,
    ) -> None:
        self.db = db
        if all(f.name != drafts.DRAFTS_FLOW.name for f in flows):
            flows = [*flows, *gated_flows([drafts.DRAFTS_FLOW])]
        self.flows = {f.name: f for f in flows}
        self.actions = {a.name: a for a in actions}
        self.actions.update({a.name: a for a in gated_actions(drafts.actions(self.flows))})
        self.rules = rules
        self.zone = zone
        self.school_name = school_name
        self.timeout = timeout
        self.bot_username = bot_username
        self.clock = clock
        self.keywords: dict[str, str] = dict(commands.KEYWORDS)
        for flow in flows:
            for word in flow.commands:
                self.keywords[word] = flow.name
        self._school_cache: tuple[float, School] | None = None
        self.conversations = ConversationStore()
        #: Called after anything was queued in the outbox (the delivery worker's wake-up).
        self.on_outbox: Callable[[], None] | None = None
        #: Called with (channel, outcome) once an update is handled: "ok", "error" (the person
        #: was shown an error reference) or "no_school" (e.g. the bot's metrics).
        self.on_handled: Callable[[str, str], None] | None = None

    # -- entry point -------------------------------------------------------------------------

    async def handle(self, inbound: Inbound) -> Response:
        now = self.clock()
        inbound = without_controls(inbound)
        outcome = "ok"
        try:
            response = await self._handle_afresh_if_refused(inbound, now)
        except onboarding.NoSchool:
            outcome = "no_school"
            t = translator(normalise_language(inbound.language_hint))
            response = Response(
                [Reply(t._("学校名册尚未导入，暂时无法使用。请联系学校管理员先导入名册。"))]
            )
        except Exception as error:
            outcome = "error"
            self.conversations.forget(inbound.channel, inbound.user_id)
            # No personal data in the log: the error's type, where it happened and a reference
            # the sender is shown too (bot.private_logging withholds the error's message).
            ref = error_ref()
            log.error(
                "update on %s failed: %s, ref %s",
                inbound.channel,
                type(error).__name__,
                ref,
                exc_info=True,
                extra={"error_ref": ref},
            )
            t = translator(normalise_language(inbound.language_hint))
            response = Response(
                [
                    Reply(
                        t._(
                            "抱歉，处理这条消息时出了问题，刚才这一步没有保存。"
                            "请再试一次；如仍不行，发送 /cancel 重新开始。"
                            "（若需联系学校管理员，请告知编号 {ref}。）"
                        ).format(ref=ref)
                    )
                ]
            )
        if response.queued and self.on_outbox is not None:
            self.on_outbox()
        if self.on_handled is not None:
            self.on_handled(inbound.channel, outcome)
        return response

    async def _handle_afresh_if_refused(self, inbound: Inbound, now: datetime) -> Response:
        """`_handle`, again after a refusal that saved nothing: the user's copy kept in memory
        was out of date (read afresh, once), or the roster changed under the reads kept of it
        (another connection wrote it: read afresh, a few times at most)."""
        cached = True
        for _ in range(HANDLE_ATTEMPTS - 1):
            try:
                return await self._handle(inbound, now, cached=cached)
            except KeptReadsMoved:
                continue
            except StaleConversation:
                if not cached:
                    raise
                self.conversations.forget(inbound.channel, inbound.user_id)
                cached = False
        return await self._handle(inbound, now, cached=cached)

    async def _handle(self, inbound: Inbound, now: datetime, *, cached: bool) -> Response:
        """One transaction: claim the update, read the user (or take the kept copy), route.
        Once it has committed, the user is kept with the conversation as it now stands."""
        channel, user_id = inbound.channel, inbound.user_id
        try:
            async with self.db.update_session() as tx:
                school = await self._school(tx)
                school_id = school.id or 0
                if inbound.update_key is not None:
                    await claim_update(
                        tx=tx, school_id=school_id, channel=channel, update_key=inbound.update_key
                    )
                turn = await self.conversations.load(
                    tx, school_id, channel, user_id, fresh=not cached
                )
                ctx = await self._context(tx, school, inbound, now, turn)
                response = await self._route(inbound, ctx, turn)
                response.queued = ctx.queued > 0
        except AlreadyHandled:
            return Response()  # a redelivery: nothing saved, nothing said
        self.conversations.keep(turn)
        return response

    async def _route(self, inbound: Inbound, ctx: Context, turn: UserTurn) -> Response:
        now, t = ctx.now, ctx.t
        notes: list[Reply] = []
        conversation = turn.conversation
        if conversation is not None and now - conversation.updated_at > self.timeout:
            # Idle too long: kept as a draft (`/drafts`), and the message is read afresh.
            parked = await drafts.park_current(inbound, ctx, self.flows)
            await turn.drop()
            label = parked.text if parked is not None else None
            notes.append(Reply(self._timeout_text(t, label)))
            conversation = None

        if inbound.text_cut:
            # Longer than the messenger carries: none of it is acted on, the conversation stays.
            return Response([*notes, Reply(self._too_long_text(t))])

        if inbound.contact_phone is not None:
            bound = list(await onboarding.contact_shared(inbound, ctx))
            return Response(notes + bound + await consent.after_binding(ctx))

        command = parse_command(inbound.text, self.keywords) if inbound.text else None
        if command is not None and command.name == "start":
            bound = list(await onboarding.start(inbound, ctx, command.args))
            return Response(notes + bound + await consent.after_binding(ctx))
        if command is not None and command.name == "lang":
            return Response(notes + list(await commands.language(inbound, ctx, command.args)))
        if ctx.staff is None and ctx.guardian is None:
            return Response([*notes, onboarding.unbound_reply(t, inbound.channel)])
        if not usable_files(inbound):
            return Response([*notes, Reply(t._("这个文件没能收到，请重新发送一次。"))])

        action = parse_action(inbound.callback) if inbound.callback is not None else None
        if ctx.guardian is not None:
            # A guardian's consent comes before every feature (handlers.privacy.consent).
            held = await consent.hold(inbound, ctx, command.name if command else None)
            if held is not None:
                return Response([*notes, *held], action=action is not None)
        if action is not None:
            # An action may start a conversation of its own (handlers.notice.converse).
            return await self._act(inbound, ctx, *action)

        if command is not None:
            if command.name == "cancel":
                if conversation is not None:
                    await turn.drop()
                    ending = self.flows.get(conversation.flow)
                    said = ending.cancelled if ending is not None and ending.cancelled else ""
                    text = t._(said) if said else t._("已取消，本次内容没有保存。")
                    return Response([Reply(text)])
                return Response([*notes, Reply(t._("现在没有进行中的操作。"))])
            if conversation is not None and self._answers_only(command, ctx):
                # Nothing is lost: the answer, then the question in progress again.
                answer = await self._command(inbound, ctx, turn, command)
                again = await self._ask_again(ctx, turn, inbound.chat_id)
                return Response([*notes, *answer, *again])
            if conversation is not None and conversation.flow in self.flows:
                return Response([*notes, await self._before_leaving(inbound, ctx, turn)])
            await turn.drop()
            return Response(notes + await self._command(inbound, ctx, turn, command))

        if conversation is None:
            if inbound.callback is not None:
                turn.refusing_a_button()
                return Response(
                    [*notes, Reply(t._("这个按钮已失效。请发送 /help 查看可以做什么。"))]
                )
            for flow in self.flows.values():
                if flow.free_text is None or not flow.allowed(ctx):
                    continue
                draft = flow.new_draft()
                started = await flow.free_text(inbound, draft, ctx)
                if started is not None:
                    saved = await self._save(ctx, inbound, flow, draft, started, turn)
                    return Response(notes + saved)
            return Response([*notes, commands.help_reply(ctx, self.flows.values())])

        current = self.flows.get(conversation.flow)
        if current is None or conversation.state not in current.steps:
            await turn.drop()
            return Response([Reply(t._("这项操作已不可用，请重新开始。"))])
        flow = current
        if not flow.allowed(ctx):
            # The account now belongs to someone the flow is not for (bound again as a parent by
            # a shared contact, or the staff member left the roster): its steps cannot go on.
            await turn.drop()
            return Response(
                [Reply(t._("上一项未完成的操作已放弃，没有保存。")), Reply(t._(flow.refusal))]
            )
        stored, engine = split(conversation.draft)
        if engine.pending is not None:
            # A command sent mid-flow asked 继续记录 / 保存草稿 / 放弃; anything else is an
            # answer to the question, whose buttons still count.
            choice = drafts.park_choice(self._resolve_choice(inbound, conversation)[0], t)
            if choice is not None:
                return await self._settle(inbound, ctx, turn, choice, engine.pending)
            conversation = replace(conversation, choices=engine.pending.choices)
        inbound, chosen = self._resolve_choice(inbound, conversation)
        if inbound.callback is not None and chosen is None:
            turn.refusing_a_button()
            return Response([Reply(t._("这个按钮已过期，请使用最新一条消息里的按钮。"))])
        if inbound.callback is None and inbound.photo is None and is_back_word(inbound.text):
            back = await self._go_back(ctx, turn, inbound.chat_id, flow, engine)
            if back is not None:
                return Response(back)
        draft = flow.load_draft(stored)
        transition = await flow.steps[conversation.state](inbound, draft, ctx)
        replies = await self._save(ctx, inbound, flow, draft, transition, turn)
        return Response(replies, chosen=chosen)

    async def _command(
        self, inbound: Inbound, ctx: Context, turn: UserTurn, command: Command
    ) -> list[Reply]:
        """A command sent outside a conversation (or a read-only one, inside it)."""
        if command.name == "help":
            return [commands.help_reply(ctx, self.flows.values())]
        flow = self.flows.get(command.name)
        if flow is None:
            return [commands.unknown_command(ctx, command.name)]
        if not flow.allowed(ctx):
            return [Reply(ctx.t._(flow.refusal))]
        draft = flow.new_draft()
        transition = await flow.start(inbound, draft, ctx, command.args)
        if flow.read_only and turn.conversation is not None:
            return list(transition.replies)
        return await self._save(ctx, inbound, flow, draft, transition, turn)

    def _answers_only(self, command: Command, ctx: Context) -> bool:
        """Whether a command mid-flow only answers (/help, /quota, /pending, /drafts …; an
        unknown one, one the person may not use): the conversation goes on after it."""
        if command.name == "help":
            return True
        flow = self.flows.get(command.name)
        return flow is None or flow.read_only or not flow.allowed(ctx)

    async def _before_leaving(self, inbound: Inbound, ctx: Context, turn: UserTurn) -> Reply:
        """A command that would end the conversation in progress: ask 继续记录 / 保存草稿 /
        放弃 first, and keep the command until the answer."""
        conversation = turn.conversation
        assert conversation is not None
        flow = self.flows[conversation.flow]
        stored, engine = split(conversation.draft)
        label = await drafts.describe(flow, stored, ctx.session, ctx.t)
        question = drafts.park_question(ctx.t, label, flow)
        choices = engine.pending.choices if engine.pending else conversation.choices
        engine.pending = Pending((inbound.text or "").strip(), choices)
        await turn.save(
            chat_id=inbound.chat_id,
            flow=conversation.flow,
            state=conversation.state,
            draft=join(stored, engine),
            choices=choices_of([question]),
            now=ctx.now,
        )
        return question

    async def _settle(
        self, inbound: Inbound, ctx: Context, turn: UserTurn, choice: str, pending: Pending
    ) -> Response:
        """继续记录 asks the question again; 保存草稿 parks the conversation, 放弃 drops it, and
        either runs the command that was waiting."""
        if choice == drafts.GO_ON:
            return Response(await self._ask_again(ctx, turn, inbound.chat_id))
        notes: list[Reply] = []
        parked = (
            await drafts.park_current(inbound, ctx, self.flows) if choice == drafts.SAVE else None
        )
        if parked is not None:
            notes.append(parked)
        else:
            await turn.drop()
            notes.append(Reply(ctx.t._("已放弃，本次内容没有保存。")))
        command = parse_command(pending.command, self.keywords)
        if command is None:
            return Response(notes)
        typed = replace(inbound, text=pending.command, callback=None)
        return Response(notes + await self._command(typed, ctx, turn, command))

    async def _ask_again(self, ctx: Context, turn: UserTurn, chat_id: str) -> list[Reply]:
        """The question of the conversation in progress, asked again as it was asked."""
        conversation = turn.conversation
        assert conversation is not None
        stored, engine = split(conversation.draft)
        choices = engine.pending.choices if engine.pending else conversation.choices
        engine.pending = None
        asked = engine.asked_replies()
        if asked:
            choices = choices_of(asked)
        else:
            asked = [Reply(ctx.t._("请接着回答上一个问题。"))]
        await turn.save(
            chat_id=chat_id,
            flow=conversation.flow,
            state=conversation.state,
            draft=join(stored, engine),
            choices=choices,
            now=ctx.now,
        )
        return asked

    async def _go_back(
        self,
        ctx: Context,
        turn: UserTurn,
        chat_id: str,
        flow: Flow,
        engine: EngineNotes,
    ) -> list[Reply] | None:
        """上一步: the state before, with the draft as it was left (its answer kept) and its question
        asked again; at the first step, the same question with a note. None: the flow's own step
        reads the word (the flow goes back by itself in this state)."""
        t = ctx.t
        conversation = turn.conversation
        assert conversation is not None
        if conversation.state in flow.reads_back:
            return None
        history = [v for v in engine.history if v.state in flow.steps]
        if not history:
            again = await self._ask_again(ctx, turn, chat_id)
            return [Reply(t._("这已经是第一步了，没有上一步。")), *again]
        back = history.pop()
        notes = EngineNotes(history=history, asked=back.replies)
        asked = notes.asked_replies()
        await turn.save(
            chat_id=chat_id,
            flow=conversation.flow,
            state=back.state,
            draft=join(back.draft, notes),
            choices=choices_of(asked),
            now=ctx.now,
        )
        return [Reply(t._("好的，回到上一步。")), *asked]

    async def _act(self, inbound: Inbound, ctx: Context, name: str, argument: str) -> Response:
        handler = self.actions.get(name)
        if handler is None or not is_record_argument(argument):
            # An unknown action or an argument no button carries: forged, or from an old version.
            return Response([Reply(ctx.t._("这个按钮已失效。"))], action=True)
        return Response(await handler.handle(inbound, argument, ctx), action=True)

    # -- helpers ------------------------------------------------------------------------------

    async def _school(self, tx: UpdateTx) -> School:
        """The school, read at most once a minute (it changes only with a roster import)."""
        return await self._school_in(tx.session)

    async def _school_in(self, session: AsyncSession) -> School:
        cached = self._school_cache
        if cached is not None and time.monotonic() - cached[0] < SCHOOL_CACHE_SECONDS:
            return cached[1]
        school = await current_school(session=session, name=self.school_name)
        if school is None:
            raise onboarding.NoSchool()
        # Kept apart from this session: a rollback would expire it for every update served
        # from the cache until it is read again.
        session.expunge(school)
        self._school_cache = (time.monotonic(), school)
        return school

    async def school_id(self) -> int | None:
        """The id of the school this dispatcher serves (None: the database has none yet).
        Everything it keeps about messengers (conversations, updates seen, the outbox) is
        kept under it, so another school's bot on the same database never meets it."""
        async with self.db.session() as session:
            try:
                school = await self._school_in(session)
            except onboarding.NoSchool:
                return None
        return school.id

    async def _context(
        self, tx: UpdateTx, school: School, inbound: Inbound, now: datetime, turn: UserTurn
    ) -> Context:
        snapshot = turn.snapshot
        account = snapshot.account
        language = account.language if account else normalise_language(inbound.language_hint)
        ctx = Context(
            tx=tx,
            now=now,
            school=school,
            zone=self.zone,
            t=translator(language),
            channel=inbound.channel,
            account=account,
            bot_username=self.bot_username,
            rules=self.rules,
            turn=turn,
            on_account_change=functools.partial(
                self.conversations.forget, inbound.channel, inbound.user_id
            ),
        )
        if account is not None and account.school_id == school.id:
            if snapshot.staff is not None and snapshot.staff.active:
                ctx.staff = snapshot.staff
                await ctx.read_duties()
            ctx.guardian = snapshot.guardian
        return ctx

    def _resolve_choice(
        self, inbound: Inbound, conversation: ConversationState
    ) -> tuple[Inbound, str | None]:
        """Accept only offered buttons; on numbered channels "2" presses the second one."""
        offered = {data: label for label, data in conversation.choices}
        if inbound.callback is not None:
            return inbound, offered.get(inbound.callback)
        text = (inbound.text or "").strip()
        if inbound.channel in NUMBERED_CHANNELS and _button_number(text) and conversation.choices:
            index = int(text) - 1
            if 0 <= index < len(conversation.choices):
                label, data = conversation.choices[index]
                return _with_callback(inbound, data), label
        return inbound, None

    async def _save(
        self,
        ctx: Context,
        inbound: Inbound,
        flow: Flow,
        draft: object,
        transition: Transition,
        turn: UserTurn,
    ) -> list[Reply]:
        replies = list(transition.replies)
        if transition.next_state is None:
            await turn.drop()
            return replies
        if transition.next_state not in flow.steps:
            raise ValueError(f"flow {flow.name} has no state {transition.next_state}")
        engine = EngineNotes(asked=stored_replies(replies))
        dumped = flow.draft_type.model_validate(draft).model_dump(mode="json")
        previous = turn.conversation
        if previous is not None and previous.flow == flow.name:
            # What 上一步 goes back to, and the question to ask again: an answer asked again
            # with only a note keeps the question as it was first asked.
            _before, noted = split(previous.draft)
            engine.history = moved_on(previous.state, noted, transition.next_state, dumped)
            same = previous.state == transition.next_state
            if same and noted.asked and not any(r.buttons for r in replies):
                engine.asked = noted.asked
        await turn.save(
            chat_id=inbound.chat_id,
            flow=flow.name,
            state=transition.next_state,
            draft=join(dumped, engine),
            choices=[[b.label, b.data] for r in replies for b in r.flat_buttons()],
            now=ctx.now,
        )
        return replies

    def _too_long_text(self, t: Translator) -> str:
        return t._(
            "这条消息超出了一条消息的长度上限，我没有读取，也没有保存任何内容；"
            "正在进行的操作不受影响。请精简后重新发送，或分成几条较短的消息。"
        )

    def _timeout_text(self, t: Translator, parked: str | None) -> str:
        """The note on a conversation idle past the timeout; `parked`: what was said of the
        draft it was kept as."""
        minutes = int(self.timeout.total_seconds() // 60)
        if parked is None:
            return t._(
                "您上一次的操作已超过 {minutes} 分钟没有继续，已自动结束，内容没有保存。"
            ).format(minutes=minutes)
        return t._("您上一次的操作已超过 {minutes} 分钟没有继续，已自动结束。{parked}").format(
            minutes=minutes, parked=parked
        )

    async def defer(
        self, *, channel: str, chat_id: str, reply: Reply, key: str, delay: float = 0.0
    ) -> None:
        """Hand an answer the channel could not deliver right now to the outbox (once per key)."""
        async with self.db.session() as session:
            school = await self._school_in(session)
            await enqueue(
                session=session,
                school_id=school.id or 0,
                key=key,
                kind="deferred_reply",
                channel=channel,
                chat_id=chat_id,
                payload=reply.to_dict(),
                due_at=self.clock() + timedelta(seconds=delay),
            )
        if self.on_outbox is not None:
            self.on_outbox()

    async def expire_idle(self) -> int:
        """End conversations idle past the timeout, each kept as a draft (`/drafts`), and tell
        each person so (via the outbox)."""
        now = self.clock()
        cutoff = now - self.timeout
        async with self.db.session() as session:
            try:
                school_id = (await self._school_in(session)).id or 0
            except onboarding.NoSchool:
                return 0
            idle = (
                await session.exec(
                    select(Conversation).where(
                        Conversation.school_id == school_id, col(Conversation.updated_at) < cutoff
                    )
                )
            ).all()
            for conversation in idle:
                self.conversations.forget(conversation.channel, conversation.external_id)
                account = await account_for(
                    session=session,
                    school_id=school_id,
                    channel=conversation.channel,
                    external_id=conversation.external_id,
                )
                t = translator(account.language if account else "zh")
                parked = None
                if account is not None:
                    kept = await drafts.park_conversation(
                        session=session,
                        school_id=account.school_id,
                        channel=conversation.channel,
                        external_id=conversation.external_id,
                        chat_id=conversation.chat_id,
                        conversation=_state_of(conversation),
                        flow=self.flows.get(conversation.flow),
                        t=t,
                        now=now,
                    )
                    parked = drafts.saved_text(t, kept)
                await enqueue(
                    session=session,
                    school_id=school_id,
                    key=f"conversation-timeout:{conversation.id}:{conversation.updated_at.isoformat()}",
                    kind="conversation_timeout",
                    channel=conversation.channel,
                    chat_id=conversation.chat_id,
                    payload=Reply(self._timeout_text(t, parked)).to_dict(),
                    due_at=now,
                )
            if idle:
                ids = [c.id for c in idle]
                await session.exec(delete(Conversation).where(col(Conversation.id).in_(ids)))
        if idle and self.on_outbox is not None:
            self.on_outbox()
        return len(idle)


def _state_of(row: Conversation) -> ConversationState:
    return ConversationState(
        row.id or 0, row.flow, row.state, row.draft, row.choices, row.updated_at, row.version
    )


def _button_number(text: str) -> bool:
    """Whether `text` is a typed button number ("2"; not "²", nor a thousand digits)."""
    return text.isascii() and text.isdigit() and len(text) <= MAX_BUTTON_DIGITS


def _with_callback(inbound: Inbound, data: str) -> Inbound:
    return replace(inbound, text=None, callback=data)
