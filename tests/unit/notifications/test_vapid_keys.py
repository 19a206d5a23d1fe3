"""The VAPID key pair: generated once into the var dir (0600), or taken from the settings."""

from __future__ import annotations

import base64
import stat
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from portal.domain.push.keys import KEY_FILE, vapid_keys
from portal.settings import Settings

ENV = {"PORTAL_SECRET_KEY": "k" * 40}


def test_generated_once_and_kept_private(tmp_path: Path) -> None:
    settings = Settings.from_env({**ENV, "PORTAL_VAR_DIR": str(tmp_path)})
    keys = vapid_keys(settings)
    path = tmp_path / KEY_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again = Settings.from_env(
        {**ENV, "PORTAL_VAR_DIR": str(tmp_path), "PORTAL_MAIL_FROM": "x@y.fr"}
    )
    assert vapid_keys(again).public_key == keys.public_key  # read back, not regenerated
    assert vapid_keys(again).subject == "mailto:x@y.fr"
    assert keys.subject == "mailto:ne-pas-repondre@portail-famille.local"
    point = base64.urlsafe_b64decode(keys.public_key + "=")
    assert len(point) == 65 and point[0] == 4


def test_given_in_the_settings(tmp_path: Path) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    raw = key.private_numbers().private_value.to_bytes(32, "big")
    given = base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    env = {**ENV, "PORTAL_VAR_DIR": str(tmp_path), "PORTAL_VAPID_SUBJECT": "https://mairie.fr"}
    from_raw = vapid_keys(Settings.from_env({**env, "PORTAL_VAPID_PRIVATE_KEY": given}))
    from_pem = vapid_keys(Settings.from_env({**env, "PORTAL_VAPID_PRIVATE_KEY": pem}))
    assert from_raw.public_key == from_pem.public_key
    assert from_raw.subject == "https://mairie.fr"
    assert not (tmp_path / KEY_FILE).exists()
