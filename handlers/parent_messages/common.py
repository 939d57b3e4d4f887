"""What the parents' own messages share: the greeting, the action names of the head teacher's
buttons, and choosing a child."""

from __future__ import annotations

from collections.abc import Sequence

from handlers.i18n import Translator
from handlers.types import Button
from models.notices.publishing import Child

#: Action names of the buttons on a forwarded parent's message (`handlers.actions`).
SICK, NOT_SICK, ANSWER = "pm-sick", "pm-not-sick", "pm-answer"
#: Callback data of a child's button while the parent is asked which child.
CHILD_PREFIX = "child:"


def greeting(t: Translator, children: Sequence[Child]) -> str:
    """`张小明家长，您好！` (both children named for a guardian of two)."""
    names = "、".join(c.student.name for c in children)
    if not names:
        return t._("家长，您好！")
    return t._("{names}家长，您好！").format(names=names)


def child_label(child: Child) -> str:
    """`张小明（三(2)班）`."""
    return f"{child.student.name}（{child.klass.name}）"


def child_buttons(children: Sequence[Child]) -> list[list[Button]]:
    return [[Button(child_label(c), f"{CHILD_PREFIX}{c.student.id}")] for c in children]


def who_wrote(t: Translator, child: Child) -> str:
    """`三(2)班 李娜 的父亲` (never the guardian's name, phone or account)."""
    return t._("{klass}{student}的{relation}").format(
        klass=child.klass.name, student=child.student.name, relation=child.relation or t._("家长")
    )
