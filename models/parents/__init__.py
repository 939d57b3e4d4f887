"""A parent's own messages to the school: what they mean (`rules`), the table and its queries."""
