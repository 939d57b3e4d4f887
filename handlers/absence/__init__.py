"""/absence (缺勤): record a sick or unexcused absence, or the child's return (see `absence.mmd`)."""

from handlers.absence.flow import ABSENCE_FLOW

__all__ = ["ABSENCE_FLOW"]
