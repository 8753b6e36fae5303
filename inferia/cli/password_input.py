"""Reading a new password for the CLI: never from the command line, where other
users see it in the process list and the shell keeps it in its history."""

from __future__ import annotations

import getpass
import sys

from inferia.core.errors import InferiaError


def read_new_password() -> str:
    """Asked twice on a terminal; otherwise the first line of stdin (for scripts:
    ``printf '%s\\n' "$PW" | inferia admin reset-password EMAIL``)."""
    if sys.stdin.isatty():
        password = getpass.getpass("New password: ")
        if getpass.getpass("Repeat it: ") != password:
            raise InferiaError("the two passwords differ; nothing changed")
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        raise InferiaError("no password given (type it at the prompt or pipe it on stdin)")
    return password
