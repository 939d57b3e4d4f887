"""Delivery: the outbox sender worker and the per-messenger send budget (pacing)."""
