"""jiafang (家访): wiring, settings, database, CLI and channel adapters."""
