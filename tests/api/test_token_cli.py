"""`dermis token create|revoke`: the token is printed once and works; revoked, it stops."""

from __future__ import annotations

from django.test import Client

from dermis.cli.main import main
from dermis.web.api.models import ApiToken


def _works(token: str) -> bool:
    response = Client().get("/api/v1/practitioners", headers={"Authorization": f"Bearer {token}"})
    return response.status_code == 200


def test_create_prints_a_working_token_once(world, capsys):
    assert main(["token", "create", "pat", "--days", "7", "--name", "booking site"]) == 0

    out, err = capsys.readouterr()
    token = out.strip()
    assert _works(token)
    row = ApiToken.objects.get()
    assert row.name == "booking site" and token not in err and "shown only now" in err
    assert (row.expires_at - row.created_at).days == 7


def test_revoke_stops_the_token(world, capsys):
    main(["token", "create", "pat"])
    token = capsys.readouterr().out.strip()
    row = ApiToken.objects.get()

    assert main(["token", "revoke", str(row.pk)]) == 0
    assert "revoked" in capsys.readouterr().out
    assert not _works(token)


def test_unknown_user_or_token_is_a_clear_error(world, capsys):
    assert main(["token", "create", "nosuchuser"]) == 2
    assert "no user 'nosuchuser'" in capsys.readouterr().err
    assert main(["token", "revoke", "4242"]) == 2
    assert "no token 4242" in capsys.readouterr().err
    assert main(["token", "create", "pat", "--days", "0"]) == 2
    assert not ApiToken.objects.exists()
