"""The one exception the survey rules raise on purpose."""

from __future__ import annotations


class SurveyRefused(Exception):
    """A survey the rules refuse (a share out of range, no families to ask, an unknown form).

    `message` is a msgid; show it translated and filled in with `params`:
    `t._(refused.message).format(**refused.params)`.
    """

    def __init__(self, message: str, **params: object) -> None:
        super().__init__(message.format(**params))
        self.message = message
        self.params = params
