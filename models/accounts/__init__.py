"""Messenger accounts bound to roster people, and the one-time invite codes that bind them."""
