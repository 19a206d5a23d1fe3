"""Piccolo app whose migrations folder is the top-level migrations/."""

from __future__ import annotations

from piccolo.conf.apps import AppConfig

from portal.settings import PROJECT_ROOT
from portal.tables import ALL_TABLES

APP_CONFIG = AppConfig(
    app_name="portal",
    migrations_folder_path=str(PROJECT_ROOT / "migrations"),
    table_classes=ALL_TABLES,
    migration_dependencies=[],
    commands=[],
)
