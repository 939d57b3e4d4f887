"""Parent meetings 家长会 and the parent committee 家长委员会 (DOMAIN.md "Parent meetings")."""
