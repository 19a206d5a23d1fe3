from __future__ import annotations

from portal.domain.accounts.rules import describe_device

IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1"
)
WINDOWS_EDGE = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36 Edg/124.0.0.0"
)
ANDROID_CHROME = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Mobile Safari/537.36"
)


def test_devices_read_from_user_agents() -> None:
    assert describe_device(IPHONE) == "Safari sur iPhone"
    assert describe_device(WINDOWS_EDGE) == "Edge sur Windows"
    assert describe_device(ANDROID_CHROME) == "Chrome sur Android"
    assert (
        describe_device("Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0")
        == "Firefox sur Linux"
    )
    assert describe_device("python-httpx/0.27") == "Appareil inconnu"
    assert describe_device("") == "Appareil inconnu"
