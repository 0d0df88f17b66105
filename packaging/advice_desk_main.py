"""The frozen program's entry: `advice-desk` with or without a command, as the wheel's script.

:func:`advice_desk.__main__.main` calls ``multiprocessing.freeze_support()`` first when frozen,
so the demo's spawned producer (started with this same program) runs its work and exits.
"""

import sys

from advice_desk.__main__ import main

if __name__ == "__main__":
    sys.exit(main())
