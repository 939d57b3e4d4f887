"""A small school for the 大走访 campaign's pure rules: three classes, their pupils and households.

    三(1)班 (31): 2026310101 陈一, 2026310102 陈二, 2026310103 刘三     head teacher 钱进 (4), 李强 (2)
    三(2)班 (32): 2026320101 张小明, 2026320102 王五, 2026320103 赵六,
                  2026320104 孙七, 2026320105 李八 (no guardian), 2026320106 王五
                                                                    head teacher 王芳 (1), 李强 (2)
    四(1)班 (41): 2026410101 张小红, 2026410102 周九, 2026410103 吴十   head teacher 孙丽 (5)

Households by guardian: 刘梅 (1) is 张小明's and 张小红's mother, so they are household 1, whose home
class is 四(1)班 (the elder child's); every other pupil with a guardian is a household of their own,
keyed 2 … 10 in the order above. 赵敏 (3) is 德育处 and teaches no class; there are two 张伟 (6, 7).
"""

from __future__ import annotations

from models.campaigns.assignment import (
    AssignmentRoster,
    AssignmentRow,
    CampaignClass,
    Pupil,
    Teacher,
)
from models.campaigns.problems import SHEET
from models.families.households import households_from

CLASSES = (CampaignClass(31, 3, 1), CampaignClass(32, 3, 2), CampaignClass(41, 4, 1))
PUPILS = (
    Pupil(101, "2026310101", "陈一", 31),
    Pupil(102, "2026310102", "陈二", 31),
    Pupil(103, "2026310103", "刘三", 31),
    Pupil(201, "2026320101", "张小明", 32),
    Pupil(202, "2026320102", "王五", 32),
    Pupil(203, "2026320103", "赵六", 32),
    Pupil(204, "2026320104", "孙七", 32),
    Pupil(205, "2026320105", "李八", 32),
    Pupil(206, "2026320106", "王五", 32),
    Pupil(301, "2026410101", "张小红", 41),
    Pupil(302, "2026410102", "周九", 41),
    Pupil(303, "2026410103", "吴十", 41),
)
TEACHERS = (
    Teacher(1, "T01", "王芳"),
    Teacher(2, "T02", "李强"),
    Teacher(3, "T03", "赵敏"),
    Teacher(4, "T04", "钱进"),
    Teacher(5, "T05", "孙丽"),
    Teacher(6, "T06", "张伟"),
    Teacher(7, "T07", "张伟"),
)
TEACHES = {31: frozenset({4, 2}), 32: frozenset({1, 2}), 41: frozenset({5})}
HEADS: dict[int, int | None] = {31: 4, 32: 1, 41: 5}
#: (student, class, guardian): 刘梅 (1) has two children; 李八 (205) has no guardian.
LINKS = [
    (201, 32, 1),
    (301, 41, 1),
    (101, 31, 2),
    (102, 31, 3),
    (103, 31, 4),
    (202, 32, 5),
    (203, 32, 6),
    (204, 32, 7),
    (302, 41, 8),
    (303, 41, 9),
    (206, 32, 10),
]
HOUSEHOLDS = tuple(households_from(LINKS))
ROSTER = AssignmentRoster(CLASSES, PUPILS, TEACHERS, TEACHES, HOUSEHOLDS)


def row(
    number: int, klass: tuple[int, int], teacher: str, *students: str, leader: str = ""
) -> AssignmentRow:
    return AssignmentRow(SHEET, number, klass, teacher, tuple(students), leader)


#: A clean table: 三(1)班 whole class to 钱进; 三(2)班 split between 王芳 (a range) and 李强;
#: 四(1)班 whole class (张小红's household with it) to 孙丽.
CLEAN = [
    row(2, (3, 1), "钱进"),
    row(3, (3, 2), "王芳", "2026320102-2026320104"),
    row(4, (3, 2), "李强", "2026320106"),
    row(5, (4, 1), "孙丽"),
]
