"""The problem ledger 问题台账 for staff: `/ledger`, an item's card and its buttons, classifying,
progress notes, closing and reopening (models/ledger/ holds the rules and the tables)."""

from handlers.ledger.actions import LEDGER_ACTIONS
from handlers.ledger.classify import LEDGER_CLASSIFY_FLOW
from handlers.ledger.flow import LEDGER_FLOW
from handlers.ledger.write import LEDGER_WRITE_FLOW

__all__ = ["LEDGER_ACTIONS", "LEDGER_CLASSIFY_FLOW", "LEDGER_FLOW", "LEDGER_WRITE_FLOW"]
