"""Advice Desk: log, review and report the calls of a telephone advice line."""

__version__ = "0.1.0"
