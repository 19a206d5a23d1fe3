"""Piccolo's configuration module (PICCOLO_CONF=portal.piccolo_conf).

DB is replaced at run time by portal.db.use_engine(), so one process can switch engines
(the tests run on SQLite and PostgreSQL).
"""

from __future__ import annotations

from typing import Any

from piccolo.conf.apps import AppRegistry
from piccolo.engine.base import Engine

from portal.db import make_engine
from portal.settings import Settings

DB: Engine[Any] = make_engine(Settings.from_env())

APP_REGISTRY = AppRegistry(apps=["portal.piccolo_app"])
