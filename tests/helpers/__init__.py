"""Helpers several test files share: factories, a fixed clock, and per-feature set-ups."""
