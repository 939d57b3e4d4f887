"""The evaluation's button names (`handlers.permissions` binds them), and the 我的考核 button
`/quota` shows a teacher (kept here, free of the flow's imports, so `/quota` can use it)."""

from __future__ import annotations

from handlers.actions import action_button
from handlers.i18n import Translator
from handlers.types import Button

#: A teacher's figures for a semester (`<staff>.<semester id>`) or a school year
#: (`<staff>.<first year>`); 0 for the default period.
TEACHER = "evt"
TEACHER_YEAR = "evy"
#: A class's chart for a semester or a school year (`<class>.<period>`).
CLASS = "evc"
CLASS_YEAR = "evk"


def my_evaluation(t: Translator, staff_id: int) -> Button:
    """The teacher's own figures this semester."""
    return action_button(t._("我的家访考核"), TEACHER, f"{staff_id}.0")
