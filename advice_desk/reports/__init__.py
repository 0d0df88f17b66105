"""Figures: the report, its outputs (text, JSON, CSV, PDF) and the funder export."""
