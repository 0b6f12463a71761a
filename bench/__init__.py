"""Reproducible benchmarks (`make bench`); results are recorded in docs/benchmarks.md."""
