"""The whole permission matrix walked through the dispatcher: every role tries every flow it can
start with a command and presses every button with forged callback data. A cell the matrix
refuses answers with the flow's refusal (a button: 这个按钮不适用于您。) and runs nothing; a
cell it allows reaches the flow or the button's handler. A flow or a button that the matrix does
not bind fails here (and stops the bot at start)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace

import pytest

from bot.cli import _parser as build_parser
from handlers.actions import Action as Button
from handlers.dispatcher import Dispatcher
from handlers.flow import Flow
from handlers.permissions import (
    BUTTON_ACTIONS,
    COMMAND_ACTIONS,
    FLOW_ACTIONS,
    PAGE_ACTIONS,
    Unbound,
    gated_actions,
    gated_flows,
)
from handlers.registry import all_actions, all_flows
from handlers.types import Inbound, Reply
from models.db.engine import Database
from models.permissions.matrix import Action, Role, permits
from models.permissions.roles import roles_of
from models.roster.duties import staff_duties
from models.roster.tables import Staff
from tests.helpers.clock import FakeClock
from tests.helpers.factories import TestSchool, bind
from tests.helpers.visits import ZONE, ChatUser

#: The staff who play the roles (the test school's, and four added here).
STAFF_PLAYERS: dict[str, str] = {
    "王芳": "head and subject teacher",
    "钱进": "coach",
    "赵敏": "德育处",
    "校长": "principal",
    "周心": "care room",
    "新老师": "staff who teaches no one",
    "李科长": "区域管理员 (district)",
}


@dataclass
class Player:
    name: str
    user: ChatUser
    roles: frozenset[Role]


async def _players(
    db: Database, clock: FakeClock, school: TestSchool, dispatcher: Dispatcher
) -> list[Player]:
    extra = [
        Staff(school_id=school.school.id or 0, staff_no="P01", name="校长", roles="principal"),
        Staff(school_id=school.school.id or 0, staff_no="C01", name="周心", roles="care"),
        Staff(school_id=school.school.id or 0, staff_no="N01", name="新老师", roles=""),
        Staff(school_id=school.school.id or 0, staff_no="D01", name="李科长", roles="district"),
    ]
    async with db.session() as session:
        session.add_all(extra)
    staff = {**school.staff, **{s.name: s for s in extra}}
    players = []
    for name in STAFF_PLAYERS:
        member = staff[name]
        async with db.session() as session:
            duties = await staff_duties(session=session, staff=member)
        players.append(
            Player(
                name,
                ChatUser(dispatcher, await bind(db, clock, member)),
                roles_of(member, duties, None),
            )
        )
    mother = school.guardians["刘梅"]
    players.append(
        Player(
            "刘梅", ChatUser(dispatcher, await bind(db, clock, mother)), frozenset({Role.GUARDIAN})
        )
    )
    players.append(Player("unbound", ChatUser(dispatcher, "stranger-1"), frozenset({Role.UNBOUND})))
    return players


Handle = Callable[[Inbound, str, object], Awaitable[list[Reply]]]


def _spying(buttons: list[Button], pressed: list[str]) -> list[Button]:
    """The registry's buttons gated again, each recording its name when its handler runs."""

    def spy(name: str, handle: Handle) -> Handle:
        async def spied(inbound: Inbound, argument: str, ctx: object) -> list[Reply]:
            pressed.append(name)
            return await handle(inbound, argument, ctx)

        return spied

    raw = [replace(b, handle=b.handle.__wrapped__) for b in buttons]  # type: ignore[attr-defined]
    return gated_actions([replace(b, handle=spy(b.name, b.handle)) for b in raw])  # type: ignore[arg-type]


def test_every_flow_and_button_is_bound_and_every_binding_is_used() -> None:
    dispatcher = Dispatcher(Database("sqlite://"), all_flows(), zone=ZONE, actions=all_actions())
    flows = set(dispatcher.flows)  # the registry's and the dispatcher's own (/drafts)
    buttons = set(dispatcher.actions)
    assert set(FLOW_ACTIONS) == flows
    assert set(BUTTON_ACTIONS) == buttons
    with pytest.raises(Unbound):
        gated_flows([replace(all_flows()[0], name="unlisted")])
    with pytest.raises(Unbound):
        gated_actions([replace(all_actions()[0], name="unlisted")])


def test_every_action_of_the_matrix_is_done_somewhere() -> None:
    bound = {
        *FLOW_ACTIONS.values(),
        *BUTTON_ACTIONS.values(),
        *PAGE_ACTIONS.values(),
        *COMMAND_ACTIONS.values(),
    }
    assert bound == set(Action)


def test_every_command_line_command_bound_exists() -> None:
    parser = build_parser()
    for command in COMMAND_ACTIONS:
        with pytest.raises(SystemExit) as shown:
            parser.parse_args([*command.split(), "--help"])
        assert shown.value.code == 0, command


def _command_flows() -> list[Flow]:
    return [f for f in all_flows() if f.commands]


async def test_every_role_tries_every_command_and_only_the_matrix_lets_them_in(
    db: Database, school: TestSchool, clock: FakeClock
) -> None:
    pressed: list[str] = []
    dispatcher = Dispatcher(
        db, all_flows(), zone=ZONE, clock=clock, actions=_spying(all_actions(), pressed)
    )
    players = await _players(db, clock, school, dispatcher)
    walked = 0
    for flow in _command_flows():
        action = FLOW_ACTIONS[flow.name]
        for player in players:
            await player.user.send(f"/{flow.commands[0]}")
            text = player.user.text
            allowed = permits(player.roles, action, {})
            refused_text = text == flow.refusal or "还没有与学校名册绑定" in text
            assert allowed != refused_text, (flow.name, player.name, text)
            await player.user.send("/cancel")
            walked += 1
    assert walked == len(_command_flows()) * len(players)


async def test_every_role_presses_every_button_with_forged_data_and_only_the_matrix_lets_it_run(
    db: Database, school: TestSchool, clock: FakeClock
) -> None:
    pressed: list[str] = []
    dispatcher = Dispatcher(
        db, all_flows(), zone=ZONE, clock=clock, actions=_spying(all_actions(), pressed)
    )
    players = await _players(db, clock, school, dispatcher)
    for button in all_actions():
        action: Action = BUTTON_ACTIONS[button.name]
        for player in players:
            pressed.clear()
            await player.user.callback(f"!{button.name}:1")
            ran = pressed == [button.name]
            allowed = permits(player.roles, action, {}) and Role.UNBOUND not in player.roles
            assert ran == allowed, (button.name, player.name, player.user.text)
            if not allowed:
                assert player.user.text in (
                    "这个按钮不适用于您。",
                    "您好！这里是学校的家校联系助手。您的账号还没有与学校名册绑定，所以暂时不能查看或记录任何信息。\n"
                    "· 老师：请打开学校发给您的邀请链接，或发送 /start 加邀请码。\n"
                    "· 家长：请点下方按钮分享本机手机号，与学校登记的号码一致即可绑定；也可以使用班主任发给您的邀请链接。",
                ), (button.name, player.name)
            await player.user.send("/cancel")
