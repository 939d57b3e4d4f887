"""The few exception types the bot raises on purpose, each with a message a person can act on."""

import secrets


class JiafangError(Exception):
    """Base class: the message is meant for the operator or user, not a stack trace."""


class ConfigError(JiafangError):
    """The configuration (environment, `.env`) is wrong or incomplete."""


class RosterError(JiafangError):
    """A roster file cannot be imported; carries every problem found."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


class CalendarError(JiafangError):
    """A school calendar (校历) cannot be imported; carries every problem found."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


def error_ref() -> str:
    """A short reference for one unexpected error: written in the log beside the error's type,
    and shown in the apology to the person who met it, so the two can be matched."""
    return secrets.token_hex(4)


class FileRefused(JiafangError):
    """A file named on the command line cannot be used at all (missing, unreadable, of a type
    the command does not read): one line, and the command stops with status 2."""


class CommandRefused(JiafangError):
    """A command's arguments cannot be acted on (an unknown item, a blank note, someone who may
    not do it): one line, and the command stops with status 2, having changed nothing."""
