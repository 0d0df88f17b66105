"""Copies of the store: made with SQLite's online backup API, verified, kept in tiers, restored.

- :mod:`.tiers` the pure rule of which copies to keep (daily, weekly, monthly; clock passed in);
- :mod:`.copies` making, verifying and listing copies, pruning, the automatic backup;
- :mod:`.restore` putting a copy back in place of the store, safely;
- :mod:`.server` the ``pg_dump`` / ``pg_restore`` wrapper for a server store (PostgreSQL);
- :mod:`.locks` the lock that keeps two copies of the app from backing up at once, and the
  check that no other copy of the app holds the store.
"""
