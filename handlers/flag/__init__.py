"""/flag (上报): report a family change, a parent's accident, a serious violation, an award or
another important problem; the head teacher (and the flagging teacher) must visit (`flag.mmd`)."""

from handlers.flag.flow import FLAG_FLOW

__all__ = ["FLAG_FLOW"]
