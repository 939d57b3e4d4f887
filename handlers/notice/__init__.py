"""Notices to parents 通知 with receipts 回执: compose (`/notice`), approval, publication,
receipts and questions, and the guardian's `/notices`. Modules are imported directly
(`handlers.notice.flow`, `handlers.notice.publish` …) so that the scheduler's registry stays light.
"""
