"""Logging a home visit 家访记录: `/visit` step by step, or one free-text message."""

from handlers.visit.flow import VISIT_FLOW

__all__ = ["VISIT_FLOW"]
