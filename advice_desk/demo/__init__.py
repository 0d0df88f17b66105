"""Synthetic calls for trying the app and for benchmarks."""
