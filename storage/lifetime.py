"""Child processes that end with their parent (killed, a parent cannot tell them)."""

from __future__ import annotations

import os
import threading
import time


def exit_with(parent: int) -> None:
    """Worker start: exit when the `parent` process is gone (killed, it cannot say so)."""

    def watch() -> None:
        while True:
            time.sleep(1.0)
            try:
                os.kill(parent, 0)
            except ProcessLookupError:
                os._exit(1)

    threading.Thread(target=watch, daemon=True).start()
