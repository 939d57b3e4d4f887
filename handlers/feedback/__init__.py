"""Parents' feedback and complaints 意见反馈: `/feedback` (or 意见) to write one, named or
anonymous, and to look up what became of it; what the author is told as it is handled."""
