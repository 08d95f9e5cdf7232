"""Finalising signs what the signer read: the form and the API send back the draft's version, and
a draft changed since is not signed (409, field `version`), on both doors alike and under races."""

from __future__ import annotations

import threading
from dataclasses import replace

import pytest
from django.db import connection
from django.urls import reverse

from dermis.web.clinic.charting import services as charting
from dermis.web.clinic.errors import ServiceError
from dermis.web.clinic.models import AuditEvent, TreatmentSession
from tests import factories

MESSAGE = "the session was changed after you opened it: read it again, then finalise"


def _draft(world, who=None):
    who = who or world.nora
    factories.consultation(world.pat, who)
    return factories.session(world.pat, who, lot_number="LOT-7")


def _change(world, draft, **fields) -> None:
    chart = replace(charting.stored_chart(draft), **fields)
    charting.update_session(factories.actor(world.pat), draft, chart)


def test_the_version_changes_with_the_content_and_the_page_carries_it(world, client_as):
    draft = _draft(world)
    before = charting.draft_version(draft)
    page = client_as("pat").get(reverse("session-detail", args=[draft.pk])).content.decode()
    assert f'name="version" value="{before}"' in page
    _change(world, draft, notes="a later note")
    assert charting.draft_version(TreatmentSession.objects.get(pk=draft.pk)) != before


def test_a_stale_version_is_refused_with_409_by_the_page_and_the_api_alike(
    world, client_as, api_as
):
    other = factories.patient(world.pat)
    by_web, by_api = _draft(world), _draft(world, other)
    stale = {s.pk: charting.draft_version(s) for s in (by_web, by_api)}
    _change(world, by_web, notes="changed by a colleague")
    _change(world, by_api, notes="changed by a colleague")

    web = client_as("pat").post(
        reverse("session-finalise", args=[by_web.pk]),
        {"confirm": "on", "version": stale[by_web.pk]},
    )
    api = api_as("pat").post(
        f"/api/v1/sessions/{by_api.pk}/finalise", {"version": stale[by_api.pk]}
    )
    assert web.status_code == 409 and api.status_code == 409
    ((label, web_message),) = web.context["problems"]
    error = api.json()["errors"][0]
    assert label == "Version" and error["field"] == "body.version"
    assert web_message == error["message"] == MESSAGE
    assert not TreatmentSession.objects.filter(status="final").exists()
    # the page now shows the draft as it is, with its new version to sign
    fresh = charting.draft_version(TreatmentSession.objects.get(pk=by_web.pk))
    assert f'value="{fresh}"' in web.content.decode()
    signed = client_as("pat").post(
        reverse("session-finalise", args=[by_web.pk]), {"confirm": "on", "version": fresh}
    )
    assert signed.status_code == 302


def test_the_version_is_required_at_both_doors(world, client_as, api_as):
    draft = _draft(world)
    web = client_as("pat").post(reverse("session-finalise", args=[draft.pk]), {"confirm": "on"})
    assert web.status_code == 400 and "reload the page" in web.content.decode()
    api = api_as("pat").post(f"/api/v1/sessions/{draft.pk}/finalise", {})
    assert api.status_code == 422
    assert api.json()["errors"][0]["field"] == "body.version"
    assert not TreatmentSession.objects.filter(status="final").exists()


def _race(jobs) -> list[str]:
    barrier = threading.Barrier(len(jobs))
    outcomes: list[str] = []
    lock = threading.Lock()

    def run(job) -> None:
        try:
            barrier.wait(timeout=30)
            result = job()
        except ServiceError as exc:
            result = f"{exc.status} {exc.field}"
        except Exception as exc:  # reported as a failure by the assertions
            result = f"error {type(exc).__name__}: {exc}"
        finally:
            connection.close()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return sorted(outcomes)


@pytest.mark.django_db(transaction=True)
def test_two_finalisers_at_once_sign_once():
    from tests.personas import build_world

    world = build_world()
    draft = _draft(world)
    version = charting.draft_version(draft)

    def finalise() -> str:
        charting.finalise_session(factories.actor(world.pat), draft, version=version)
        return "signed"

    outcomes = _race([finalise, finalise])
    assert outcomes == ["409 status", "signed"], outcomes
    assert AuditEvent.objects.filter(action="sign", object_id=str(draft.pk)).count() == 1
    final = TreatmentSession.objects.get(pk=draft.pk)
    assert final.is_final and charting.integrity(final).intact


@pytest.mark.django_db(transaction=True)
def test_an_edit_racing_a_finalise_never_gets_signed_unseen():
    from tests.personas import build_world

    world = build_world()
    draft = _draft(world)
    version = charting.draft_version(draft)

    def finalise() -> str:
        charting.finalise_session(factories.actor(world.pat), draft, version=version)
        return "signed"

    def edit() -> str:
        _change(world, draft, notes="edited at the same moment")
        return "edited"

    outcomes = _race([finalise, edit])
    final = TreatmentSession.objects.get(pk=draft.pk)
    # Either the edit came first (then the finalise saw a new version: 409) or the finalise came
    # first (then the edit met a locked record: 409). Never both, never a signed edited record.
    assert outcomes in (["409 status", "signed"], ["409 version", "edited"]), outcomes
    if final.is_final:
        assert final.notes == "" and charting.integrity(final).intact
    else:
        assert final.notes == "edited at the same moment"
