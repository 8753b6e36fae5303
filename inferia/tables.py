"""Every plane's tables: the one list the migrations and the engine binding read.

Each plane that owns tables lists them in its own ``tables`` module; this module (above
the planes, like the app factory) puts the lists together. Add a plane's list here and
generate a migration (see ``inferia/db/migrations/README.md``).

``APP_CONFIG`` is piccolo's view of the same list, for its migration CLI
(``inferia.db.piccolo_conf`` names this module in its ``APP_REGISTRY``).
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from piccolo.table import Table


def all_tables() -> tuple[type[Table], ...]:
    """Parents before children (foreign keys): what the migrations cover."""
    return tables_of({"filtration", "orchestration"})


def tables_of(planes: Collection[str]) -> tuple[type[Table], ...]:
    """The tables of ``planes`` only: a worker imports no other plane's table modules."""
    tables: tuple[type[Table], ...] = ()
    if "filtration" in planes:
        from inferia.filtration.tables import TABLES as filtration

        tables += filtration
    if "orchestration" in planes:
        from inferia.orchestration.tables import TABLES as orchestration

        tables += orchestration
    return tables


def __getattr__(name: str) -> Any:
    # Built on first access: piccolo.conf.apps imports black (~10 MB), which only the
    # migration tools need.
    if name == "APP_CONFIG":
        from piccolo.conf.apps import AppConfig

        from inferia.db.registry import APP_NAME, MIGRATIONS_DIR

        return AppConfig(
            app_name=APP_NAME,
            migrations_folder_path=str(MIGRATIONS_DIR),
            table_classes=list(all_tables()),
            migration_dependencies=[],
            commands=[],
        )
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
