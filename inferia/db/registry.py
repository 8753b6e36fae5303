"""Where Inferia's migrations live and what piccolo calls them.

The tables themselves are listed by the planes that own them (``inferia.tables``).
"""

from __future__ import annotations

from pathlib import Path

# piccolo's name for the app; stored in the migration table next to each migration id.
APP_NAME = "inferia"
MIGRATIONS_PACKAGE = "inferia.db.migrations"
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# The module piccolo imports (through the PICCOLO_CONF variable) to find DB and APP_REGISTRY.
PICCOLO_CONF_MODULE = "inferia.db.piccolo_conf"
