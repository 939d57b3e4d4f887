"""Exports for 德育处: visit records and notice receipts as .xlsx workbooks."""
