"""The sign-in backend: Django's `ModelBackend`, whose `get_user` (run on every signed-in
request) reads the user, their place on the staff, its clinic and the clinic's unfinished recall
recomputation in one query. `access.staff_of` and `recompute.pending` then ask nothing more."""

from __future__ import annotations

from functools import cache

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend

from dermis.web.clinic.prepared import PreparedQuery

WITH_STAFF = ("staff__clinic__recall_recompute",)
# Set on a clinic read this way: its `recall_recompute` (or None) is as the request found it.
# (Django also caches that relation when a row is created for an instance in memory, which may
# since have changed: only a clinic marked here is trusted.)
READ_WITH_USER = "_recall_recompute_read_with_user"


def read_with_user(user):
    """Marks the clinic read with `user` (by `WITH_STAFF`); returns `user`."""
    staff = getattr(user, "staff", None) if user is not None else None
    if staff is not None:
        setattr(staff.clinic, READ_WITH_USER, True)
    return user


@cache
def _user_by_id() -> PreparedQuery:
    """The user with `WITH_STAFF`, by id: composed once (clinic/prepared.py), read per request."""
    model = get_user_model()
    return PreparedQuery(
        model, lambda pk: model._default_manager.select_related(*WITH_STAFF).filter(pk=pk), int
    )


def user_read(user_id: int):
    """The read `get_user(user_id)` makes (`prepared.read_together`)."""
    return _user_by_id().ahead(user_id)


class StaffModelBackend(ModelBackend):
    def get_user(self, user_id):
        user = _user_by_id().first(user_id)
        if user is None:
            return None
        return read_with_user(user) if self.user_can_authenticate(user) else None
