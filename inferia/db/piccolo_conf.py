"""piccolo's configuration module (``PICCOLO_CONF=inferia.db.piccolo_conf``).

piccolo's migration machinery does not take an engine as an argument: it imports
the module named by ``PICCOLO_CONF`` and reads ``DB`` (``MigrationManager.run``,
and every table class it creates on the fly). ``DB`` is therefore the one
mutable module global here, and only ``Database.bind_tables()`` assigns it, via
``bind()``. Until then it is an engine that refuses every query, so a forgotten
``Database.start()`` fails loudly instead of writing to some default file.

``APP_REGISTRY`` is what piccolo's CLI reads to generate migrations.

Generate a migration: ``python -m inferia.db.makemigrations --desc "..."``
(see ``inferia/db/migrations/README.md``).
"""

from __future__ import annotations

from typing import Any, NoReturn

from piccolo.engine.base import Engine
from piccolo.engine.sqlite import SQLiteEngine


class UnboundEngine(SQLiteEngine):
    """Stands in for the engine until a Database is bound; refuses to run anything.

    A SQLiteEngine so that piccolo's CLI (``migrations new --auto``), which only
    needs an engine type, works without a database.
    """

    def __init__(self) -> None:
        super().__init__(path=":memory:")

    def _refuse(self) -> NoReturn:
        raise RuntimeError(
            "no Inferia database is bound: await Database.start() (or call "
            "Database.bind_tables()) before running queries"
        )

    async def run_querystring(self, *args: Any, **kwargs: Any) -> NoReturn:
        self._refuse()

    async def run_ddl(self, *args: Any, **kwargs: Any) -> NoReturn:
        self._refuse()

    def transaction(self, *args: Any, **kwargs: Any) -> NoReturn:
        self._refuse()

    def atomic(self, *args: Any, **kwargs: Any) -> NoReturn:
        self._refuse()

    async def batch(self, *args: Any, **kwargs: Any) -> NoReturn:
        self._refuse()


DB: Engine[Any] = UnboundEngine()


def __getattr__(name: str) -> Any:
    # APP_REGISTRY is built on first access, not at import: building it imports
    # every table module, and those import inferia.db, which imports this module.
    # Imported here too: piccolo.conf.apps imports black (~10 MB), which only the
    # migration tools need.
    if name == "APP_REGISTRY":
        from piccolo.conf.apps import AppRegistry

        return AppRegistry(apps=["inferia.tables"])
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def bind(engine: Engine[Any]) -> None:
    """Make ``engine`` the one piccolo's machinery finds (see the module docstring)."""
    global DB
    DB = engine
