"""The audit log: who read or changed what (no message contents, no phone numbers)."""
