"""Conversation state for every channel, and the inbound updates already handled."""
