"""The second factor: TOTP devices from django-otp (an authenticator app's six-digit codes).

Required for admins and superusers, and for everyone in a clinic that requires it; optional for
others, who may set one up (and must then use it). A device is confirmed only once a code from
it has been entered, so a half-finished set-up never locks anyone out.
"""

from __future__ import annotations

import base64

import segno
from django_otp.plugins.otp_totp.models import TOTPDevice

from dermis.web.clinic.models.tenancy import Role

DEVICE_NAME = "Authenticator app"
OPEN_WHILE_UNVERIFIED = frozenset(
    {
        "two-factor-verify",
        "two-factor-setup",
        "logout",
        "login",
        "password-reset",
        "password-reset-done",
        "password-reset-confirm",
        "password-reset-complete",
    }
)


def required(user, staff) -> bool:
    if user.is_superuser:
        return True
    return staff is not None and (staff.role == Role.ADMIN or staff.clinic.require_two_factor)


def confirmed_devices(user):
    return TOTPDevice.objects.filter(user=user, confirmed=True)


def has_device(user) -> bool:
    return confirmed_devices(user).exists()


def pending_device(user) -> TOTPDevice:
    """The device being set up (not confirmed yet): the same one until it is confirmed."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    return device or TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)


def secret_of(device: TOTPDevice) -> str:
    """The key as an authenticator app takes it when typed (base32, in groups of four)."""
    text = base64.b32encode(device.bin_key).decode("ascii").rstrip("=")
    return " ".join(text[i : i + 4] for i in range(0, len(text), 4))


def qr_svg(device: TOTPDevice) -> str:
    return segno.make(device.config_url, error="m").svg_inline(
        scale=4, title="QR code to scan with your authenticator app", dark="#000", light="#fff"
    )


def verify(device: TOTPDevice, token: str) -> bool:
    token = "".join(ch for ch in (token or "") if ch.isdigit())
    return len(token) == 6 and device.verify_token(token)
