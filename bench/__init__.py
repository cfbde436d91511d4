"""Benchmarks of the whole platform, reported as medians and ratios."""
