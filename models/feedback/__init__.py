"""Parents' feedback and complaints 意见反馈: named or anonymous, each followed up in the ledger."""
