"""Two worker processes on one database handling one stream of updates.

Any worker may take any update (`README.md`, Several worker processes): a conversation is read
from the database with its version, so a step taken by the other worker is seen at the next
write, and every update's key is recorded before it acts, so a redelivery — to the same worker or
the other one, one after the other or at the same moment — changes nothing and says nothing.

Each worker here is what a process has of its own: a `Database` (its connection pool) and a
dispatcher (its kept copies of conversations and roster reads). Three teachers log a visit each;
every step goes to a worker drawn at random, and a third of the steps are delivered twice. On
PostgreSQL the teachers' streams and the two deliveries of a step run at the same time; SQLite
is not an engine for several processes, so there the steps run one after the other.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlmodel import col, select

from handlers.dispatcher import Dispatcher, Response
from handlers.types import Inbound, Reply
from models.conversations.store import Conversation, InboundSeen
from models.db.engine import Database
from models.visits.tables import Visit, VisitForm
from tests.helpers.clock import FakeClock
from tests.helpers.factories import bind, seed_school
from tests.helpers.visits import full_dispatcher

#: Each teacher's visit: `>text` is typed, anything else a button (a class button that is not
#: offered is skipped: a teacher of one class is not asked).
VISITS: dict[str, tuple[str, ...]] = {
    teacher: (
        "/visit",
        klass,
        student,
        "上门家访",
        "常规",
        "今天",
        guardian,
        f">{student}最近作业按时完成",
        ">在家主动做家务",
        ">父母都在本地工作",
        ">多和孩子谈心",
        ">每周电话沟通一次",
        ">无",
        "保存",
    )
    for teacher, klass, student, guardian in (
        ("王芳", "三(2)班", "张小明", "母亲"),
        ("李强", "三(1)班", "李华", "母亲"),
        ("孙丽", "四(1)班", "张小红", "母亲"),
    )
}


@dataclass
class Stream:
    """One teacher's updates, each handed to a worker drawn at random."""

    user_id: str
    steps: tuple[str, ...]
    replies: list[Reply] = field(default_factory=list)
    #: How many updates were answered, and how many deliveries said nothing (a redelivery).
    answered: int = 0
    silent: int = 0

    def labels(self) -> dict[str, str]:
        return {b.label: b.data for r in self.replies for row in r.buttons for b in row}

    def inbound(self, step: str, key: str) -> Inbound | None:
        """The update for `step`, or None when it is a class button not offered."""
        who: dict[str, Any] = {
            "channel": "console",
            "user_id": self.user_id,
            "chat_id": self.user_id,
        }
        if step.startswith(">") or step.startswith("/"):
            text = step[1:] if step.startswith(">") else step
            return Inbound(**who, text=text, update_key=key)
        labels = self.labels()
        if step not in labels:
            if step.endswith("班"):
                return None
            shown = "\n".join(r.text for r in self.replies)
            raise AssertionError(f"no button {step!r} in {sorted(labels)}: {shown}")
        return Inbound(**who, callback=labels[step], update_key=key)


async def _run(
    stream: Stream, workers: list[Dispatcher], rng: random.Random, *, together: bool
) -> None:
    for number, worker in enumerate(workers):  # each keeps a copy: no conversation open
        await worker.handle(
            stream.inbound("/help", f"{stream.user_id}:help:{number}") or Inbound("", "", "")
        )
    for number, step in enumerate(stream.steps):
        inbound = stream.inbound(step, f"{stream.user_id}:{number}")
        if inbound is None:
            continue
        first = rng.choice(workers)
        deliveries = [first]
        if rng.random() < 1 / 3:  # delivered again, to either worker
            deliveries.append(rng.choice(workers))
        if together:
            responses = list(await asyncio.gather(*(w.handle(inbound) for w in deliveries)))
        else:
            responses = [await w.handle(inbound) for w in deliveries]
        said: list[Response] = [r for r in responses if r.replies]
        assert len(said) == 1, f"step {step!r} answered {len(said)} times"
        stream.replies = said[0].replies
        stream.answered += 1
        stream.silent += len(responses) - 1


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
async def test_two_workers_handle_one_stream_each_update_once_and_every_conversation_right(
    db: Database, clock: FakeClock, seed: int
) -> None:
    ts = await seed_school(db)
    other = Database(db.url)  # the second process's own pool
    try:
        workers = [full_dispatcher(db, clock), full_dispatcher(other, clock)]
        streams = [
            Stream(await bind(db, clock, ts.staff[teacher]), steps)
            for teacher, steps in VISITS.items()
        ]
        rng = random.Random(seed)
        together = not db.url.startswith("sqlite")
        if together:
            await asyncio.gather(
                *(_run(s, workers, random.Random(rng.random()), together=True) for s in streams)
            )
        else:
            for stream in streams:
                await _run(stream, workers, rng, together=False)
    finally:
        await other.dispose()

    for stream in streams:
        assert "已保存" in "\n".join(r.text for r in stream.replies), stream.user_id
    async with db.session() as session:
        saved = list((await session.exec(select(Visit).order_by(col(Visit.id)))).all())
        keys = (await session.exec(select(InboundSeen.update_key))).all()
    by_student = {v.student_id: v for v in saved}
    assert len(saved) == 3 and len(by_student) == 3  # one visit per teacher, none twice
    names = {s.id: name for name, s in ts.students.items()}
    for visit in saved:
        student = names[visit.student_id]
        assert visit.form is VisitForm.HOME
        assert visit.school_report == f"{student}最近作业按时完成"  # its own teacher's words
        # Every answer in its place, none lost or shifted.
        assert (visit.home_learned, visit.family, visit.guidance, visit.measures) == (
            "在家主动做家务",
            "父母都在本地工作",
            "多和孩子谈心",
            "每周电话沟通一次",
        )
    answered = sum(s.answered for s in streams) + len(streams) * 2  # with each /help
    assert len(keys) == len(set(keys)) == answered  # every update recorded once
    assert sum(s.silent for s in streams) > 0  # the redeliveries happened, and said nothing


async def test_a_typed_answer_reaching_a_worker_that_last_saw_no_conversation_is_not_lost(
    db: Database, clock: FakeClock
) -> None:
    # Worker 1 last served the teacher when no flow was open; worker 2 then took /visit and its
    # buttons. The typed answer that comes to worker 1 answers the question worker 2 asked.
    ts = await seed_school(db)
    other = Database(db.url)
    try:
        one, two = full_dispatcher(db, clock), full_dispatcher(other, clock)
        stream = Stream(await bind(db, clock, ts.staff["王芳"]), VISITS["王芳"])
        await one.handle(stream.inbound("/help", "help") or Inbound("", "", ""))
        for number, step in enumerate(stream.steps[:7]):
            inbound = stream.inbound(step, str(number))
            assert inbound is not None
            stream.replies = (await two.handle(inbound)).replies
        asked = "\n".join(r.text for r in stream.replies)
        answer = stream.inbound(">在校表现稳定", "7")
        assert answer is not None
        stream.replies = (await one.handle(answer)).replies
    finally:
        await other.dispose()
    said = "\n".join(r.text for r in stream.replies)
    assert "您可以发送" not in said and said != asked  # answered as the next step, not help
    async with db.session() as session:
        conversation = (await session.exec(select(Conversation))).one()
    assert "在校表现稳定" in str(conversation.draft)
