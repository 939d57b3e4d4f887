"""The school: its tables (classes, groups, terms), its configurable rules and its calendar."""
