"""Piccolo app whose migrations folder is the top-level migrations/ (packaged in the wheel)."""

from __future__ import annotations

from piccolo.conf.apps import AppConfig

from portal.resources import migrations_dir
from portal.tables import ALL_TABLES

APP_CONFIG = AppConfig(
    app_name="portal",
    migrations_folder_path=str(migrations_dir()),
    table_classes=ALL_TABLES,
    migration_dependencies=[],
    commands=[],
)
