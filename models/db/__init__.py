"""Database plumbing: the engine and its URLs, column types, in-loop SQLite, the hot path's
driver SQL, kept reads, migrations."""
