"""piccolo's AppConfig for Inferia: read by piccolo's CLI when generating migrations."""

from __future__ import annotations

from piccolo.conf.apps import AppConfig

from inferia.db.registry import APP_NAME, MIGRATIONS_DIR, table_classes

APP_CONFIG = AppConfig(
    app_name=APP_NAME,
    migrations_folder_path=str(MIGRATIONS_DIR),
    table_classes=list(table_classes()),
    migration_dependencies=[],
    commands=[],
)
