"""Immediate-visit duties 立即家访: the tables and opening them once per teacher and source."""
