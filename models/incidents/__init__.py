"""Urgent incidents at school, their time-stamped history, and the queries on them."""
