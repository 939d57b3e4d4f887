"""Least privilege as one table: which role may do which action, and how far (`matrix.py`)."""
