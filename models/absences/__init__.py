"""Absences and flags a teacher reports (/absence, /flag): the tables and recording them."""
