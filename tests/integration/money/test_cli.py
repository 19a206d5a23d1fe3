"""`portal post-consumptions` as a real process, on the demo data."""

from __future__ import annotations

from pathlib import Path

from tests.test_cli import run_portal


def test_post_consumptions_command_agrees_with_the_demo(tmp_path: Path) -> None:
    assert run_portal(tmp_path, "migrate").returncode == 0
    assert run_portal(tmp_path, "demo").returncode == 0
    # The demo already debited every ended day with the same keys: nothing more to post.
    posted = run_portal(tmp_path, "post-consumptions")
    assert posted.returncode == 0, posted.stderr
    assert "Mairie de CarteVille : 0 écriture(s)" in posted.stdout
    one = run_portal(
        tmp_path, "post-consumptions", "--structure", "ecole-musique", "--until", "2020-01-01"
    )
    assert one.returncode == 0 and "Ecole de musique de CarteVille : 0" in one.stdout
    bad = run_portal(tmp_path, "post-consumptions", "--until", "hier")
    assert bad.returncode == 2 and "date invalide" in bad.stderr
    unknown = run_portal(tmp_path, "post-consumptions", "--structure", "nulle-part")
    assert unknown.returncode == 1 and "structure inconnue" in unknown.stderr
