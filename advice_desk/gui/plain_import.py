"""Importing the GUI with Python's own ``__import__``, not PySide6's (PRODUCT.md §11).

PySide6 replaces ``__import__`` with a hook that, among other things, reads the source of
every module imported after it, to see whether the module may switch on PySide's
``__feature__`` options (snake_case, true_property). The GUI switches on none, and the hook
cost ~8 ms before the window's first paint. This module imports nothing of Qt until
:func:`python_import` is entered, so ``advice_desk.__main__`` can use it before PySide6 loads.
"""

from __future__ import annotations

import builtins
import sys
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def python_import() -> Iterator[None]:
    """Imports in the block use Python's own ``__import__``; modules imported after it go
    through PySide's hook as usual. Once PySide6 is imported, Python's own ``__import__`` is
    no longer at hand: then the block changes nothing."""
    if "PySide6" in sys.modules:
        yield
        return
    plain = builtins.__import__
    import PySide6.QtCore  # noqa: F401  (this puts PySide's hook in place)

    hooked = builtins.__import__
    builtins.__import__ = plain
    try:
        yield
    finally:
        builtins.__import__ = hooked
