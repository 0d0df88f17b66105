"""Synthetic calls for trying the app and for measuring it (:mod:`.synthetic`)."""


class DemoError(Exception):
    """The demo cannot be made as asked; the message says why."""
