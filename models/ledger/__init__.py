"""The problem ledger 问题台账: every problem found, owned and followed up until resolved."""
