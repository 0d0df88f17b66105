"""The figures engine: per-day and per-month aggregates of the calls (the rollup), kept in step
with every write to the calls in the same transaction, so a report reads hundreds of rows
instead of rescanning a million calls (PRODUCT.md §11).

:mod:`advice_desk.figures.rollup` says what a call adds to the figures and writes the changes;
:mod:`advice_desk.figures.recount` counts the same figures set-wise from the calls (to build the
rollup of an existing store, and to check or repair it).
"""
