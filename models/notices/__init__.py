"""Notices to parents 通知 with receipts 回执: tables, approval and publishing, and tracking who
confirmed."""
