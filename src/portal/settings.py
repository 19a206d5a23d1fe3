"""Settings, built once from PORTAL_* environment variables."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path


def _base_dir() -> Path:
    """What relative paths in the settings are relative to: where `portal` is started
    (the checkout for `make run`; an installed wheel has no project folder of its own)."""
    return Path.cwd()


class SettingsError(ValueError):
    """A setting has a value the portal cannot use."""


def _int(env: dict[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise SettingsError(f"{name} doit être un nombre entier (reçu : {raw!r})") from exc


def _bool(env: dict[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in {"1", "true", "yes", "on", "oui"}:
        return True
    if raw.lower() in {"0", "false", "no", "off", "non"}:
        return False
    raise SettingsError(f"{name} doit valoir true ou false (reçu : {raw!r})")


def _project_path(raw: str) -> Path:
    path = Path(raw)
    return path if path.is_absolute() else _base_dir() / path


def _secret_key(env: dict[str, str], var_dir: Path) -> str:
    given = env.get("PORTAL_SECRET_KEY")
    if given:
        if len(given) < 32:
            raise SettingsError("PORTAL_SECRET_KEY doit faire au moins 32 caractères")
        return given
    # Generated once and kept so that sessions and CSRF tokens survive restarts.
    key_file = var_dir / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    var_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key


# Settings whose meaning changed: refuse them rather than silently ignore a security setting.
_RENAMED = {
    "PORTAL_LOGIN_MAX_FAILURES": "les échecs ne verrouillent plus le compte ; voir "
    "PORTAL_LOGIN_FREE_FAILURES (échecs sans délai par identifiant et adresse)",
    "PORTAL_LOGIN_LOCK_MINUTES": "le verrou fixe est remplacé par des délais progressifs ; "
    "voir PORTAL_LOGIN_MAX_DELAY_SECONDS",
}


@dataclass(frozen=True)
class Settings:
    database_url: str
    secret_key: str
    var_dir: Path
    base_url: str = "http://127.0.0.1:8000"
    redis_url: str | None = None
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = False
    mail_from: str = "Portail Famille <ne-pas-repondre@portail-famille.local>"
    demo_mode: bool = False
    # Parents: a session opened the evening before still works at the 08:30 opening.
    session_idle_minutes: int = 16 * 60
    session_absolute_hours: int = 24
    # Staff (back office, /admin/): ASVS level 2 re-authentication.
    staff_session_idle_minutes: int = 30
    staff_session_absolute_hours: int = 12
    login_free_failures: int = 5
    login_max_delay_seconds: int = 300
    login_address_max_failures: int = 300
    reset_token_minutes: int = 30
    cookie_secure: bool = False
    # Nightly work and e-mails (portal.tasks): the Dramatiq broker is Redis when a URL is
    # known (PORTAL_BROKER_URL, else PORTAL_REDIS_URL); without it `portal serve` runs an
    # in-process worker and scheduler unless embedded_worker is off.
    broker_url: str | None = None
    embedded_worker: bool = True
    export_dir: Path | None = None
    # Uploaded family documents (PORTAL_DOCUMENTS_DIR, default <var dir>/documents): outside
    # the web root, served only through the access-checked document routes.
    documents_dir_override: Path | None = None
    # Seconds an idle HTTP connection stays open (PORTAL_KEEPALIVE_SECONDS): longer than
    # the reverse proxy keeps its upstream connections (nginx: 60 s), or the proxy reuses
    # a connection uvicorn is closing. uvicorn's own default is 5 s.
    keepalive_seconds: int = 75
    # Parents active on the booking pages (last 2 minutes) before new arrivals wait in the
    # waiting room (PORTAL_WAITING_ROOM_CAPACITY; 0: no waiting room). See README.
    waiting_room_capacity: int = 600
    # Templates read again when their file changes (PORTAL_TEMPLATE_RELOAD=1, for whoever
    # edits them). Off by default: Jinja then checks the file's date at every include, and
    # the month board includes its cell template once per day.
    template_reload: bool = False
    # Web push (VAPID, RFC 8292): the server's private key (PORTAL_VAPID_PRIVATE_KEY, PEM
    # or raw base64url; empty: generated into <var dir>/vapid_private.pem) and the contact
    # the push services may write to (PORTAL_VAPID_SUBJECT, a mailto: or https: URL).
    vapid_private_key: str = ""
    vapid_subject: str = ""
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def session_max_seconds(self) -> int:
        """The longest any session may live (cookie and store lifetime)."""
        return max(self.session_absolute_hours, self.staff_session_absolute_hours) * 3600

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def sqlite_path(self) -> Path:
        """The file behind a sqlite:/// URL (relative to the current folder)."""
        raw = self.database_url.removeprefix("sqlite:///")
        path = Path(raw)
        return path if path.is_absolute() else _base_dir() / path

    @property
    def mail_dir(self) -> Path:
        return self.var_dir / "mail"

    @property
    def session_dir(self) -> Path:
        return self.var_dir / "sessions"

    @property
    def exports_dir(self) -> Path:
        """Where the nightly transmission writes its CSV exports."""
        return self.export_dir or self.var_dir / "exports"

    @property
    def documents_dir(self) -> Path:
        """Where uploaded family documents are kept (never under static/)."""
        return self.documents_dir_override or self.var_dir / "documents"

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if env is None else env)
        for name, replacement in _RENAMED.items():
            if env.get(name):
                raise SettingsError(f"{name} n'existe plus : {replacement}")
        var_dir = Path(env.get("PORTAL_VAR_DIR") or _base_dir() / "var")
        database_url = env.get("PORTAL_DATABASE_URL") or f"sqlite:///{var_dir / 'portal.sqlite3'}"
        if not database_url.startswith(("sqlite:///", "postgresql://", "postgres://")):
            raise SettingsError(
                "PORTAL_DATABASE_URL doit commencer par sqlite:/// ou postgresql:// "
                f"(reçu : {database_url!r})"
            )
        base_url = (env.get("PORTAL_BASE_URL") or "http://127.0.0.1:8000").rstrip("/")
        redis_url = env.get("PORTAL_REDIS_URL") or None
        export_dir = env.get("PORTAL_EXPORT_DIR")
        documents_dir = env.get("PORTAL_DOCUMENTS_DIR")
        return cls(
            database_url=database_url,
            secret_key=_secret_key(env, var_dir),
            var_dir=var_dir,
            base_url=base_url,
            redis_url=redis_url,
            broker_url=env.get("PORTAL_BROKER_URL") or redis_url,
            embedded_worker=_bool(env, "PORTAL_EMBEDDED_WORKER", True),
            export_dir=_project_path(export_dir) if export_dir else None,
            documents_dir_override=_project_path(documents_dir) if documents_dir else None,
            smtp_host=env.get("PORTAL_SMTP_HOST") or None,
            smtp_port=_int(env, "PORTAL_SMTP_PORT", 25),
            smtp_username=env.get("PORTAL_SMTP_USERNAME") or None,
            smtp_password=env.get("PORTAL_SMTP_PASSWORD") or None,
            smtp_starttls=_bool(env, "PORTAL_SMTP_STARTTLS", False),
            mail_from=env.get("PORTAL_MAIL_FROM") or cls.mail_from,
            demo_mode=_bool(env, "PORTAL_DEMO", False),
            session_idle_minutes=_int(env, "PORTAL_SESSION_IDLE_MINUTES", 16 * 60),
            session_absolute_hours=_int(env, "PORTAL_SESSION_ABSOLUTE_HOURS", 24),
            staff_session_idle_minutes=_int(env, "PORTAL_STAFF_SESSION_IDLE_MINUTES", 30),
            staff_session_absolute_hours=_int(env, "PORTAL_STAFF_SESSION_ABSOLUTE_HOURS", 12),
            login_free_failures=_int(env, "PORTAL_LOGIN_FREE_FAILURES", 5),
            login_max_delay_seconds=_int(env, "PORTAL_LOGIN_MAX_DELAY_SECONDS", 300),
            login_address_max_failures=_int(env, "PORTAL_LOGIN_ADDRESS_MAX_FAILURES", 300),
            reset_token_minutes=_int(env, "PORTAL_RESET_TOKEN_MINUTES", 30),
            keepalive_seconds=_int(env, "PORTAL_KEEPALIVE_SECONDS", 75),
            waiting_room_capacity=_int(env, "PORTAL_WAITING_ROOM_CAPACITY", 600),
            template_reload=_bool(env, "PORTAL_TEMPLATE_RELOAD", False),
            vapid_private_key=env.get("PORTAL_VAPID_PRIVATE_KEY") or "",
            vapid_subject=env.get("PORTAL_VAPID_SUBJECT") or "",
            cookie_secure=base_url.startswith("https://"),
        )
