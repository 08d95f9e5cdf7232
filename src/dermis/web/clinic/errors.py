"""The one error a service raises: the field it is about, a message, and how to answer it.

Every door shows the same words: a page puts the message beside the field (`forms.show`), the API
returns it as problem+json with `status` (422 by default), the CLI prints it and exits 2.
It is an `InputError`, so a core refusal and a service refusal travel the same way.
"""

from __future__ import annotations

from datetime import date

from dermis.core.errors import InputError


class ServiceError(InputError):
    """A write was refused. `status`: 422 invalid, 403 not allowed, 404 no such record, 409 the
    record changed or the slot was taken. `possible_from`: the first day it would be allowed
    (a safety deferral), `citations`: the sources of the rule that refused it."""

    def __init__(
        self,
        field: str,
        message: str,
        *,
        status: int = 422,
        code: str = "invalid",
        possible_from: date | None = None,
        citations: tuple[str, ...] = (),
    ) -> None:
        super().__init__(field, message)
        self.status = status
        self.code = code
        self.possible_from = possible_from
        self.citations = tuple(citations)

    @classmethod
    def of(cls, err: InputError, prefix: str = "") -> ServiceError:
        """The core's InputError as a ServiceError (the same field, optionally prefixed)."""
        if isinstance(err, ServiceError):
            return err
        return cls(f"{prefix}{err.field}", err.message)


def forbidden(message: str = "your role does not give access to this") -> ServiceError:
    return ServiceError("role", message, status=403, code="forbidden")


def not_found(field: str = "id") -> ServiceError:
    # The same answer whether the record is absent or another clinic's: an id confirms nothing.
    return ServiceError(field, "no such record", status=404, code="not_found")


def conflict(field: str, message: str, code: str = "conflict") -> ServiceError:
    return ServiceError(field, message, status=409, code=code)


class PatientMerged(Exception):
    """The patient asked for was merged into another record: the web redirects to it, the API
    answers 308 naming it (raised only for the same clinic's records)."""

    def __init__(self, merged_id: int, kept_id: int) -> None:
        super().__init__(f"patient {merged_id} was merged into patient {kept_id}")
        self.merged_id = merged_id
        self.kept_id = kept_id
