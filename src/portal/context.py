"""The settings this process runs with, set once at start by the app, the CLI or a worker.

Services take their settings as an argument. This context object is for the few that sit
below callers with no settings in hand (a waitlist promotion's e-mail, queued inside a
booking's or a staff decision's transaction); it belongs to no layer, so the domain reads
it without importing `portal.tasks` or the web.
"""

from __future__ import annotations

from portal.settings import Settings

_settings: Settings | None = None


def use_settings(settings: Settings) -> None:
    """The settings services and actors use in this process."""
    global _settings
    _settings = settings


def current_settings() -> Settings:
    """The process's settings (read from the environment if nobody set them)."""
    global _settings
    if _settings is None:
        _settings = Settings.from_env()
    return _settings
