"""Runnable benchmarks: ``python -m benchmarks.<name>``; each prints figures and ratios
against a baseline measured in the same run."""
