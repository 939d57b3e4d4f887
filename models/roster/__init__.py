"""Staff, students and guardians: the tables, the roster's rules, looking people up, and whose
records a staff member may touch."""
