"""The outbox: every message that matters is a row first; what became of it; the files it carries."""
