"""`dermis manage ...` runs Django's management commands with the Dermis settings."""

from __future__ import annotations

import argparse

import pytest

from dermis.cli import web

# Starts servers or interpreters: `make test-fast` leaves these out.
pytestmark = pytest.mark.slow


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="dermis")
    web.register(parser.add_subparsers(dest="command"))
    return parser.parse_args(argv)


def test_manage_check_exits_zero(capsys):
    args = _parse(["manage", "check"])

    assert args.func(args) == 0
    assert "System check identified no issues" in capsys.readouterr().out


def test_manage_passes_options_through():
    args = _parse(["manage", "check", "--deploy", "--fail-level", "ERROR"])

    assert args.arguments == ["check", "--deploy", "--fail-level", "ERROR"]


def test_manage_unknown_command_exits_non_zero(capsys):
    args = _parse(["manage", "no-such-command"])

    assert args.func(args) == 1
    assert "Unknown command: 'no-such-command'" in capsys.readouterr().err


@pytest.mark.django_db
def test_manage_migrate_check_finds_every_migration_applied():
    args = _parse(["manage", "migrate", "--check"])

    assert args.func(args) == 0


def test_serve_defaults_to_loopback_port_8000():
    args = _parse(["serve"])

    assert (args.host, args.port) == ("127.0.0.1", 8000)


def test_serve_rejects_a_port_out_of_range(capsys):
    with pytest.raises(SystemExit):
        _parse(["serve", "--port", "70000"])

    assert "'70000' is not a TCP port" in capsys.readouterr().err


def test_configuration_error_is_a_message_not_a_traceback(run_python):
    code = (
        "import argparse, sys; from dermis.cli import web; "
        "p = argparse.ArgumentParser(prog='dermis'); web.register(p.add_subparsers()); "
        "a = p.parse_args(['manage', 'check']); sys.exit(a.func(a))"
    )

    # A key is set, so this is a server's environment: the production default stands.
    result = run_python(code, DERMIS_SECRET_KEY="too-short")

    assert result.returncode == 2
    assert result.stderr.startswith("dermis: error: DERMIS_SECRET_KEY must be")
    assert "Traceback" not in result.stderr
