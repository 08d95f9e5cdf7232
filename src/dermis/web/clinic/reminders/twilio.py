"""An SMS backend for Twilio's Programmable Messaging REST API (the Messages resource).

    POST {base}/2010-04-01/Accounts/{AccountSid}/Messages.json
    form fields To, Body and From (or MessagingServiceSid); HTTP basic auth AccountSid:AuthToken
    201 Created -> JSON with "sid"; 4xx -> JSON with a numeric "code" (e.g. 21211 invalid 'To')

Settings: DERMIS_TWILIO_ACCOUNT_SID, DERMIS_TWILIO_AUTH_TOKEN, and DERMIS_TWILIO_FROM (a number)
or DERMIS_TWILIO_MESSAGING_SERVICE_SID; DERMIS_TWILIO_API_BASE only to point at a test server.
Errors name the HTTP status and Twilio's error code, never the number or the text: a provider's
message can quote the recipient. Standard library only (urllib), so no new dependency.
"""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.request
from urllib.parse import quote, urlencode

from django.conf import settings

from dermis.web.clinic.reminders.sms import SMSError

TIMEOUT = 15  # seconds; the worker holds no database lock while it waits
# Worth another try later: throttled, or the provider's own trouble.
TRANSIENT_STATUSES = frozenset({408, 409, 425, 429})


class TwilioSMSBackend:
    def __init__(self) -> None:
        self.account = settings.TWILIO_ACCOUNT_SID
        self.token = settings.TWILIO_AUTH_TOKEN
        self.sender = settings.TWILIO_FROM
        self.service = settings.TWILIO_MESSAGING_SERVICE_SID
        self.base = settings.TWILIO_API_BASE.rstrip("/")
        if not (self.account and self.token and (self.sender or self.service)):
            raise SMSError(
                "Twilio is not configured (DERMIS_TWILIO_ACCOUNT_SID, DERMIS_TWILIO_AUTH_TOKEN "
                "and DERMIS_TWILIO_FROM or DERMIS_TWILIO_MESSAGING_SERVICE_SID)",
                permanent=True,
            )

    def _request(self, to: str, body: str) -> urllib.request.Request:
        fields = {"To": to, "Body": body}
        if self.service:
            fields["MessagingServiceSid"] = self.service
        else:
            fields["From"] = self.sender
        url = f"{self.base}/2010-04-01/Accounts/{quote(self.account, safe='')}/Messages.json"
        auth = base64.b64encode(f"{self.account}:{self.token}".encode()).decode()
        return urllib.request.Request(
            url,
            data=urlencode(fields).encode(),
            method="POST",
            headers={
                "Authorization": f"Basic {auth}",
                "Content-Type": "application/x-www-form-urlencoded",
                "Accept": "application/json",
            },
        )

    def send(self, to: str, body: str, *, reference: str = "") -> str:
        try:
            with urllib.request.urlopen(self._request(to, body), timeout=TIMEOUT) as response:
                payload = json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as exc:
            code = _error_code(exc)
            transient = exc.code >= 500 or exc.code in TRANSIENT_STATUSES
            raise SMSError(f"Twilio HTTP {exc.code}{code}", permanent=not transient) from None
        except (TimeoutError, urllib.error.URLError, ConnectionError) as exc:
            reason = getattr(exc, "reason", exc)
            raise SMSError(f"Twilio unreachable ({type(reason).__name__})") from None
        except ValueError:
            raise SMSError("Twilio answered something other than JSON") from None
        sid = payload.get("sid") if isinstance(payload, dict) else None
        if not sid:
            raise SMSError("Twilio answered without a message sid")
        return str(sid)


def _error_code(exc: urllib.error.HTTPError) -> str:
    try:
        code = json.loads(exc.read() or b"{}").get("code")
    except (ValueError, AttributeError, OSError):
        return ""
    return f" code {int(code)}" if isinstance(code, int) else ""
