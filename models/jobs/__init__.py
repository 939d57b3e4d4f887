"""Scheduled-job slots: the row claimed before a slot runs, so that it runs once."""
