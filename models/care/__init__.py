"""The care room 关爱室: confidential cases of students in difficulty (seed 002)."""
