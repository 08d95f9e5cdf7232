"""Staff accounts: change or reset one's own password (Django's views, the app's templates;
the password validators apply), and set up or pass the second factor (TOTP)."""

from __future__ import annotations

from django import forms
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import path, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django_otp import login as otp_login

from dermis.web.clinic.access import audit, staff_of
from dermis.web.clinic.accounts import two_factor


class CodeForm(forms.Form):
    code = forms.CharField(
        label="Six-digit code from your authenticator app",
        max_length=12,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )


WRONG_CODE = (
    "the code did not match: enter the current code from your authenticator app (after a wrong "
    "code, wait a little longer before each try)"
)


def _next(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    safe = url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return target if target and safe else reverse_lazy("dashboard")


def _audit(request, summary: str) -> None:
    if staff_of(request) is not None:
        audit(request, "update", summary=summary, object_type="Account")


@login_required
def two_factor_verify(request):
    user = request.user
    if user.is_verified():
        return redirect(_next(request))
    if not two_factor.has_device(user):
        return redirect("two-factor-setup")
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        for device in two_factor.confirmed_devices(user):
            if two_factor.verify(device, form.cleaned_data["code"]):
                otp_login(request, device)
                return redirect(_next(request))
        form.add_error("code", WRONG_CODE)
    status = 400 if request.method == "POST" else 200
    context = {"form": form, "next": _next(request)}
    return render(request, "clinic/accounts/two_factor_verify.html", context, status=status)


@login_required
def two_factor_setup(request):
    user = request.user
    if two_factor.has_device(user) and not user.is_verified():
        # a new device only after the current one: a password alone cannot replace it
        return redirect("two-factor-verify")
    device = two_factor.pending_device(user)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if two_factor.verify(device, form.cleaned_data["code"]):
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            otp_login(request, device)
            _audit(request, "second factor set up")
            return redirect(_next(request))
        form.add_error("code", WRONG_CODE)
    context = {
        "form": form,
        "next": _next(request),
        "qr": two_factor.qr_svg(device),
        "secret": two_factor.secret_of(device),
        "required": two_factor.required(user, staff_of(request)),
        "has_device": two_factor.has_device(user),
    }
    status = 400 if request.method == "POST" else 200
    return render(request, "clinic/accounts/two_factor_setup.html", context, status=status)


class PasswordChange(auth_views.PasswordChangeView):
    template_name = "clinic/accounts/password_change.html"
    success_url = reverse_lazy("password-change-done")

    def form_valid(self, form):
        response = super().form_valid(form)
        _audit(self.request, "password changed")
        return response


urlpatterns = [
    path("accounts/two-factor/", two_factor_verify, name="two-factor-verify"),
    path("accounts/two-factor/setup/", two_factor_setup, name="two-factor-setup"),
    path("accounts/password/", PasswordChange.as_view(), name="password-change"),
    path(
        "accounts/password/changed/",
        auth_views.PasswordChangeDoneView.as_view(
            template_name="clinic/accounts/password_change_done.html"
        ),
        name="password-change-done",
    ),
    path(
        "accounts/password/reset/",
        auth_views.PasswordResetView.as_view(
            template_name="clinic/accounts/password_reset.html",
            email_template_name="clinic/accounts/password_reset_email.txt",
            subject_template_name="clinic/accounts/password_reset_subject.txt",
            success_url=reverse_lazy("password-reset-done"),
        ),
        name="password-reset",
    ),
    path(
        "accounts/password/reset/sent/",
        auth_views.PasswordResetDoneView.as_view(
            template_name="clinic/accounts/password_reset_done.html"
        ),
        name="password-reset-done",
    ),
    path(
        "accounts/password/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(
            template_name="clinic/accounts/password_reset_confirm.html",
            success_url=reverse_lazy("password-reset-complete"),
        ),
        name="password-reset-confirm",
    ),
    path(
        "accounts/password/reset/done/",
        auth_views.PasswordResetCompleteView.as_view(
            template_name="clinic/accounts/password_reset_complete.html"
        ),
        name="password-reset-complete",
    ),
]
