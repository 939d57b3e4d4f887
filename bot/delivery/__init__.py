"""Delivery: the outbox sender worker, its wiring to the conversation engine (with the idle
sweep), and the per-messenger send budget (pacing)."""
