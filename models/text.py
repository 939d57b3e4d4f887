"""Marking texts for translation where they are defined (models may not import handlers)."""


def N_(message: str) -> str:
    """Mark a message for extraction here; it is translated where it is shown."""
    return message
