"""Database plumbing: the engine, column types, in-loop SQLite, the hot path's driver SQL, kept
reads, migrations."""
