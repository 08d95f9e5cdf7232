"""Login throttling: by account from any address, and by address for any account, with the
client's address read through the configured reverse proxies only."""

from __future__ import annotations

import pytest
from django.test import Client, RequestFactory
from django.urls import reverse

from dermis.web.clinic.client_address import client_address
from tests.personas import PASSWORD

LIMIT = 5


def attempt(username: str, password: str, address: str, forwarded: str | None = None):
    extra = {"REMOTE_ADDR": address}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return Client().post(reverse("login"), {"username": username, "password": password}, **extra)


def succeeded(response) -> bool:
    return response.status_code == 302 and response["Location"] == reverse("dashboard")


def test_an_account_cannot_be_guessed_by_spreading_tries_over_addresses(world):
    for n in range(LIMIT):
        assert not succeeded(attempt("pat", f"guess-{n}", f"203.0.113.{n + 1}"))
    assert not succeeded(attempt("pat", PASSWORD, "203.0.113.99"))  # locked, whatever the address


def test_one_address_cannot_lock_every_account(world):
    for name in ("alice", "fran", "oscar", "nobody", "pat"):
        attempt(name, "wrong", "198.51.100.7")
    assert not succeeded(attempt("fran", PASSWORD, "198.51.100.7"))  # the address is locked
    # ... but no account was: each had one failure
    for name in ("fran", "oscar", "pat"):
        assert succeeded(attempt(name, PASSWORD, "192.0.2.10")), name


@pytest.fixture
def behind_a_proxy(settings):
    settings.DERMIS_TRUSTED_PROXIES = 1
    return "10.0.0.2"  # the proxy: every request arrives from it


def test_behind_a_proxy_each_client_is_told_apart(world, behind_a_proxy):
    for name in ("alice", "fran", "oscar", "nobody", "pat"):
        attempt(name, "wrong", behind_a_proxy, forwarded="203.0.113.66")
    assert not succeeded(attempt("pat", PASSWORD, behind_a_proxy, forwarded="203.0.113.66"))
    # a client that writes its own X-Forwarded-For is still known by what the proxy added
    spoofed = attempt("pat", PASSWORD, behind_a_proxy, forwarded="192.0.2.1, 203.0.113.66")
    assert not succeeded(spoofed)
    assert succeeded(attempt("pat", PASSWORD, behind_a_proxy, forwarded="192.0.2.55"))


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        (0, "192.0.2.1", "10.0.0.2"),  # no proxy configured: the header is ignored
        (1, "192.0.2.1", "192.0.2.1"),
        (1, "6.6.6.6, 192.0.2.1", "192.0.2.1"),  # the client's own entry is ignored
        (2, "192.0.2.1, 10.0.0.9", "192.0.2.1"),
        (2, "10.0.0.9", "10.0.0.2"),  # did not come through both proxies
        (1, "not-an-address", "10.0.0.2"),
    ],
)
def test_the_client_address(settings, proxies, forwarded, expected):
    settings.DERMIS_TRUSTED_PROXIES = proxies
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=forwarded)
    assert client_address(request) == expected
