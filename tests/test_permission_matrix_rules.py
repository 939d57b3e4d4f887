"""The permission matrix's rules as a table of cases (the walk through the dispatcher is in
tests/test_permission_matrix.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from models.permissions import table
from models.permissions.matrix import MATRIX, Action, Reach, Role, reach
from models.permissions.roles import roles_of
from models.roster.duties import Duty
from models.roster.tables import Guardian, Staff

R = Role


@pytest.mark.parametrize(
    ("roles", "action", "settings", "expected"),
    [
        ({R.STAFF, R.HEAD_TEACHER}, Action.VISIT_LOG, {}, Reach.SCOPE),
        ({R.STAFF, R.CARE}, Action.VISIT_LOG, {}, Reach.NONE),
        ({R.STAFF, R.ADMIN}, Action.VISIT_LOG, {}, Reach.SCHOOL),
        ({R.STAFF}, Action.INCIDENT_REPORT, {}, Reach.SCHOOL),
        ({R.STAFF, R.HEAD_TEACHER}, Action.CASE_READ, {}, Reach.NONE),
        ({R.STAFF, R.ADMIN}, Action.CASE_READ, {}, Reach.NONE),
        ({R.STAFF, R.CARE}, Action.CASE_READ, {}, Reach.SCHOOL),
        ({R.STAFF, R.PRINCIPAL}, Action.CASE_READ, {}, Reach.SCHOOL),
        ({R.STAFF, R.PRINCIPAL}, Action.CASE_WORK, {}, Reach.NONE),
        ({R.STAFF, R.HEAD_TEACHER}, Action.LEDGER_CLASSIFY, {}, Reach.NONE),
        (
            {R.STAFF, R.HEAD_TEACHER},
            Action.LEDGER_CLASSIFY,
            {"ledger_head_teacher_classifies": True},
            Reach.SCOPE,
        ),
        ({R.GUARDIAN}, Action.VISIT_LOG, {}, Reach.NONE),
        ({R.GUARDIAN}, Action.FEEDBACK_SEND, {}, Reach.OWN),
        ({R.UNBOUND}, Action.NOTICES_READ, {}, Reach.NONE),
        ({R.STAFF, R.HEAD_TEACHER, R.ADMIN}, Action.NOTICE_COMPOSE, {}, Reach.SCHOOL),
    ],
)
def test_a_persons_reach_is_the_widest_of_their_roles(
    roles: set[Role], action: Action, settings: dict[str, bool], expected: Reach
) -> None:
    assert reach(roles, action, settings) is expected


@pytest.mark.parametrize("action", list(Action))
def test_a_district_admin_reaches_the_district_view_and_nothing_else(action: Action) -> None:
    expected = Reach.DISTRICT if action is Action.DISTRICT_VIEW else Reach.NONE
    assert reach({R.DISTRICT}, action, {"ledger_head_teacher_classifies": True}) is expected


@pytest.mark.parametrize("role", [r for r in Role if r is not R.DISTRICT])
def test_no_other_role_reaches_the_district_view(role: Role) -> None:
    assert reach({role}, Action.DISTRICT_VIEW, {}) is Reach.NONE


def test_a_district_admin_is_that_role_alone_whatever_else_the_roster_says() -> None:
    bureau = Staff(school_id=1, staff_no="D1", name="李科长", roles="district")
    mixed = Staff(school_id=1, staff_no="D2", name="兼任", roles="admin,district")
    left = Staff(school_id=1, staff_no="D3", name="调离", roles="district", active=False)
    assert roles_of(bureau, set(), None) == {R.DISTRICT}
    assert roles_of(mixed, {Duty.HEAD}, None) == {R.DISTRICT}
    assert roles_of(left, set(), None) == {R.UNBOUND}


def test_every_action_has_a_row_and_no_one_unbound_may_do_anything() -> None:
    assert set(MATRIX) == set(Action)
    assert all(Role.UNBOUND not in row for row in MATRIX.values())


def test_a_persons_roles_come_from_the_roster() -> None:
    head = Staff(school_id=1, staff_no="T1", name="王芳", roles="")
    admin = Staff(school_id=1, staff_no="T3", name="赵敏", roles="admin,care")
    left = Staff(school_id=1, staff_no="T9", name="离职", roles="admin", active=False)
    parent = Guardian(school_id=1, name="刘梅", phone="13700000000")
    assert roles_of(head, {Duty.HEAD, Duty.TEACHES}, None) == {
        R.STAFF,
        R.HEAD_TEACHER,
        R.SUBJECT_TEACHER,
    }
    assert roles_of(admin, set(), parent) == {R.STAFF, R.ADMIN, R.CARE}
    assert roles_of(left, set(), None) == {R.UNBOUND}
    assert roles_of(None, set(), parent) == {R.GUARDIAN}
    assert roles_of(None, set(), None) == {R.UNBOUND}


def test_the_readme_shows_the_matrix_the_code_has() -> None:
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    start, end = readme.index(table.START), readme.index(table.END) + len(table.END)
    assert readme[start:end] == table.markdown(), (
        "README's permission table is out of date: run python -m models.permissions.table "
        "--write README.md"
    )
