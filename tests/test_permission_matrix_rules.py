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
