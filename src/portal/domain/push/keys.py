"""The server's VAPID key pair (RFC 8292): given in the settings, or generated once into
the var dir next to the secret key (mode 0600) so that subscriptions survive restarts."""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass
from email.utils import parseaddr
from functools import cache
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import Vapid

from portal.settings import Settings

KEY_FILE = "vapid_private.pem"


@dataclass(frozen=True)
class VapidKeys:
    private_pem: bytes
    # The "applicationServerKey" the browser subscribes with (base64url, uncompressed point).
    public_key: str
    subject: str

    def signer(self) -> Vapid:
        return Vapid.from_pem(self.private_pem)


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _from_setting(raw: str) -> ec.EllipticCurvePrivateKey:
    text = raw.strip()
    if text.startswith("-----BEGIN"):
        key = serialization.load_pem_private_key(text.encode(), password=None)
    else:
        secret = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        key = ec.derive_private_key(int.from_bytes(secret, "big"), ec.SECP256R1())
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise ValueError("PORTAL_VAPID_PRIVATE_KEY doit être une clé P-256")
    return key


def _from_file(var_dir: Path) -> ec.EllipticCurvePrivateKey:
    path = var_dir / KEY_FILE
    if not path.exists():
        var_dir.mkdir(parents=True, exist_ok=True)
        pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process was first: use its key
            pass
        else:
            with os.fdopen(fd, "wb") as handle:
                handle.write(pem)
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise ValueError(f"{path} doit contenir une clé P-256")
    return key


def _subject(settings: Settings) -> str:
    if settings.vapid_subject:
        return settings.vapid_subject
    address = parseaddr(settings.mail_from)[1] or "ne-pas-repondre@portail-famille.local"
    return f"mailto:{address}"


@cache
def _keys(raw: str, var_dir: Path, subject: str) -> VapidKeys:
    key = _from_setting(raw) if raw else _from_file(var_dir)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    point = key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return VapidKeys(private_pem=pem, public_key=_b64url(point), subject=subject)


def vapid_keys(settings: Settings) -> VapidKeys:
    """The installation's key pair (read or generated once per process)."""
    return _keys(settings.vapid_private_key, settings.var_dir, _subject(settings))
