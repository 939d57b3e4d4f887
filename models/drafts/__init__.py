"""Unfinished conversations parked as drafts, to be resumed later (`/drafts`)."""
