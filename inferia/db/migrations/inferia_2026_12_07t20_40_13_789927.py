"""users.email_verified: accounts created through an invitation start unverified;
existing accounts keep being treated as verified."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Boolean
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-07T20:40:13:789927"
VERSION = "1.38.0"
DESCRIPTION = "users email verified"


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="inferia", description=DESCRIPTION)

    manager.add_column(
        table_class_name="User",
        tablename="users",
        column_name="email_verified",
        db_column_name="email_verified",
        column_class_name="Boolean",
        column_class=Boolean,
        params={
            "default": True,
            "null": False,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    return manager
