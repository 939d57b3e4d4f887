"""Channel-neutral conversations and commands: each flow is a small state machine."""
