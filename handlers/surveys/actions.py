"""The survey buttons that work from any message (registered as actions): 结果 on the list."""

from __future__ import annotations

from handlers.actions import Action
from handlers.surveys.listing import RESULTS, show_results

SURVEY_ACTIONS: list[Action] = [Action(RESULTS, show_results)]
