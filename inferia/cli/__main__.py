"""``python -m inferia.cli``: the same as the ``inferia`` command."""

from inferia.cli import main

main()
