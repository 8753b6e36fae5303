"""What a server worker does about its own process."""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import signal
import sys

log = logging.getLogger(__name__)
_PR_SET_PDEATHSIG = 1


def exit_with_parent() -> None:
    """Have the kernel kill this worker when its supervisor dies (Linux).

    A worker whose supervisor was killed (``kill -9``, the OOM killer) would otherwise
    keep running unsupervised: still consuming the usage stream, still holding the
    reconciler's lease, still serving a port nobody manages. Nothing is left to drain
    for, so the signal is SIGKILL.
    """
    if not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
        log.warning("cannot ask to be stopped with the supervisor: errno %d", ctypes.get_errno())
