"""Staff accounts: the second factor (required for admins, by the clinic, or once set up), idle
and absolute session limits, and passwords changed or reset under the validators."""

from __future__ import annotations

import re
import time

from django.contrib.auth.forms import AdminPasswordChangeForm
from django.core import mail
from django.test import Client
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from dermis.web.clinic.accounts.middleware import SEEN, STARTED
from tests.personas import PASSWORD


def code(device: TOTPDevice) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():06d}"


def logged_in(world, persona: str) -> Client:
    c = Client()
    c.force_login(world.user(persona))
    return c


# --- Second factor ----------------------------------------------------------------------------


def test_an_admin_must_set_up_a_second_factor_before_any_page(world):
    c = logged_in(world, "alice")
    response = c.get(reverse("dashboard"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("two-factor-setup"))
    page = c.get(response["Location"])
    assert page.status_code == 200 and "<svg" in page.content.decode()
    device = TOTPDevice.objects.get(user=world.alice.user, confirmed=False)
    wrong = c.post(reverse("two-factor-setup"), {"code": "000000", "next": "/"})
    assert wrong.status_code == 400 and "the code did not match" in wrong.content.decode()
    # django-otp throttles after a failure; let the next attempt through
    TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_count=0)
    device.refresh_from_db()
    done = c.post(reverse("two-factor-setup"), {"code": code(device), "next": "/patients/"})
    assert done.status_code == 302 and done["Location"] == "/patients/"
    device.refresh_from_db()
    assert device.confirmed
    assert c.get(reverse("dashboard")).status_code == 200


def test_with_a_device_each_log_in_asks_for_a_code(world):
    device = TOTPDevice.objects.create(user=world.alice.user, name="phone", confirmed=True)
    c = Client()
    login = c.post(reverse("login"), {"username": "alice", "password": PASSWORD})
    assert login.status_code == 302
    gated = c.get(reverse("patient-list"))
    assert gated["Location"].startswith(reverse("two-factor-verify"))
    # a password alone cannot swap the device for a new one
    assert c.get(reverse("two-factor-setup"))["Location"] == reverse("two-factor-verify")
    wrong = c.post(reverse("two-factor-verify"), {"code": "123456"})
    assert wrong.status_code == 400
    # django-otp throttles after a failure; let the next attempt through
    TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_count=0)
    device.refresh_from_db()
    right = c.post(reverse("two-factor-verify"), {"code": code(device), "next": "/patients/"})
    assert right.status_code == 302 and right["Location"] == "/patients/"
    assert c.get(reverse("patient-list")).status_code == 200


def test_a_second_factor_is_optional_for_others_unless_the_clinic_requires_it(world):
    assert logged_in(world, "fran").get(reverse("dashboard")).status_code == 200
    world.northgate.require_two_factor = True
    world.northgate.save()
    response = logged_in(world, "fran").get(reverse("dashboard"))
    assert response["Location"].startswith(reverse("two-factor-setup"))
    # another clinic's staff are not affected
    assert logged_in(world, "oscar").get(reverse("dashboard")).status_code == 200


def test_someone_who_set_one_up_must_use_it(world):
    TOTPDevice.objects.create(user=world.fran.user, name="phone", confirmed=True)
    response = logged_in(world, "fran").get(reverse("dashboard"))
    assert response["Location"].startswith(reverse("two-factor-verify"))


def test_the_api_is_not_sent_through_the_session_second_factor(world, api_as):
    assert api_as("alice").get("/api/v1/patients").status_code == 200


# --- Session limits ---------------------------------------------------------------------------


def _age(c: Client, **seconds_ago) -> None:
    session = c.session
    now = time.time()
    for key, ago in seconds_ago.items():
        session[{"seen": SEEN, "started": STARTED}[key]] = now - ago
    session.save()


def test_an_idle_session_is_logged_out_after_the_clinics_limit(world, client_as):
    c = client_as("pat")
    _age(c, seen=29 * 60)
    assert c.get(reverse("dashboard")).status_code == 200
    _age(c, seen=31 * 60)
    response = c.get(reverse("dashboard"))
    assert response.status_code == 302
    assert (
        response["Location"].startswith(reverse("login")) and "ended=idle" in response["Location"]
    )
    assert c.get(reverse("dashboard"))["Location"].startswith(reverse("login"))


def test_the_idle_limit_is_a_clinic_setting(world, client_as):
    world.northgate.idle_timeout_minutes = 5
    world.northgate.save()
    c = client_as("pat")
    _age(c, seen=6 * 60)
    assert "ended=idle" in c.get(reverse("dashboard"))["Location"]


def test_a_session_ends_at_its_absolute_limit_even_when_busy(world, client_as, settings):
    c = client_as("pat")
    _age(c, started=settings.SESSION_COOKIE_AGE + 60, seen=10)
    assert "ended=limit" in c.get(reverse("dashboard"))["Location"]
    assert settings.SESSION_COOKIE_AGE <= 12 * 3600


def test_the_login_page_says_why_the_session_ended(db):
    page = Client().get(reverse("login"), {"ended": "idle"}).content.decode()
    assert "logged out after a time without activity" in page


# --- Passwords --------------------------------------------------------------------------------


def test_staff_change_their_own_password_under_the_validators(world, client_as):
    c = client_as("fran")
    url = reverse("password-change")
    weak = c.post(
        url, {"old_password": PASSWORD, "new_password1": "password", "new_password2": "password"}
    )
    assert weak.status_code == 200 and "This password is too common." in weak.content.decode()
    new = "a-much-longer-pass-phrase-42"
    wrong_old = c.post(url, {"old_password": "nope", "new_password1": new, "new_password2": new})
    assert "Your old password was entered incorrectly" in wrong_old.content.decode()
    done = c.post(url, {"old_password": PASSWORD, "new_password1": new, "new_password2": new})
    assert done.status_code == 302 and done["Location"] == reverse("password-change-done")
    world.fran.user.refresh_from_db()
    assert world.fran.user.check_password(new)


def test_a_forgotten_password_is_reset_by_a_single_use_emailed_link(world, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    user = world.fran.user
    user.email = "fran@northgate.example"
    user.save()
    c = Client()
    sent = c.post(reverse("password-reset"), {"email": "fran@northgate.example"})
    assert sent["Location"] == reverse("password-reset-done")
    unknown = c.post(reverse("password-reset"), {"email": "nobody@example.net"})
    assert unknown["Location"] == reverse("password-reset-done")  # no hint who has an account
    (message,) = mail.outbox
    link = re.search(r"https?://[^/]+(/accounts/password/reset/\S+/)", message.body).group(1)
    form = c.get(link, follow=True)
    assert form.status_code == 200 and "Set a new password" in form.content.decode()
    target = form.redirect_chain[-1][0] if form.redirect_chain else link
    weak = c.post(target, {"new_password1": "12345678", "new_password2": "12345678"})
    assert "This password is entirely numeric." in weak.content.decode()
    new = "another-long-pass-phrase-77"
    done = c.post(target, {"new_password1": new, "new_password2": new})
    assert done["Location"] == reverse("password-reset-complete")
    user.refresh_from_db()
    assert user.check_password(new)
    again = Client().get(link, follow=True)
    assert "has expired or has been used already" in again.content.decode()


def test_the_admins_password_form_applies_the_validators_too(world):
    form = AdminPasswordChangeForm(
        world.fran.user, {"password1": "fran", "password2": "fran", "usable_password": "true"}
    )
    assert not form.is_valid()
    assert "This password is too short" in str(form.errors)


def test_a_code_is_accepted_once(world):
    device = TOTPDevice.objects.create(user=world.alice.user, name="phone", confirmed=True)
    first, second = logged_in(world, "alice"), logged_in(world, "alice")
    used = code(device)
    assert first.post(reverse("two-factor-verify"), {"code": used})["Location"] == "/"
    replay = second.post(reverse("two-factor-verify"), {"code": used})
    assert replay.status_code == 400
