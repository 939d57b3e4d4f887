"""Benchmarks that print their figures (see `benchmarks/README.md`)."""
