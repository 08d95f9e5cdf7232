"""Aftercare page and handout, plan and consent PDFs: real WeasyPrint output, who may get them."""

from __future__ import annotations

import hashlib
import io
import shutil
import socket
import subprocess
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from dermis.core.patient import AreaConcern, Assessment, Intake
from dermis.core.planning import plan
from dermis.core.screening import screen
from dermis.web.clinic.core_inputs import core_patient, knowledge
from dermis.web.clinic.documents import pdf
from dermis.web.clinic.models import (
    AuditEvent,
    ConsentRecord,
    Consultation,
    SessionArea,
    TreatmentPlan,
    TreatmentSession,
)
from tests import factories

CONSENT_TEXT = "I understand microneedling may cause redness for a few days.\nI agree to treatment."
INTERNAL_NOTE = "internal-note-do-not-print"


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (120, 40), "white").save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture
def records(world):
    """Nora's consultation, signed consent, plan v1 (one adjustment) and a session 2 days ago."""
    nora, kb = world.nora, knowledge()
    nora.fitzpatrick = "II"
    nora.save()
    today = timezone.localdate() - timedelta(days=7)  # screened before the session
    intake = Intake(herpes_simplex_history=True)
    assessment = Assessment(
        concerns=[AreaConcern(area="cheeks", concern="acne_scars_rolling", severity=3)]
    )
    patient = core_patient(nora, today)
    screening = screen(patient, intake, kb, today)
    proposal = plan(patient, assessment, screening, kb)
    consultation = Consultation.objects.create(
        patient=nora,
        practitioner=world.pat,
        as_of=today,
        intake=intake.model_dump(mode="json"),
        assessment=assessment.model_dump(mode="json"),
        screening=screening.to_dict(),
        proposal=proposal.to_dict(),
        knowledge_version=kb.version,
        status=Consultation.Status.ACCEPTED,
    )
    consent = ConsentRecord.objects.create(
        patient=nora,
        consultation=consultation,
        text_version="mn-2026-1",
        text=CONSENT_TEXT,
        text_sha256=hashlib.sha256(CONSENT_TEXT.encode()).hexdigest(),
        signature_png=_png(),
        signer_name="Nora Quinn",
        witnessed_by=world.pat.user,
    )
    treatment_plan = TreatmentPlan.objects.create(
        patient=nora,
        consultation=consultation,
        consent=consent,
        version=1,
        content=proposal.to_dict(),
        adjustments=[
            {
                "what": "depth_mm",
                "area": "cheeks",
                "concern": "acne_scars_rolling",
                "from": 1.5,
                "to": 1.25,
                "reason": "first session shallower to gauge the response",
            }
        ],
        created_by=world.pat.user,
    )
    session = TreatmentSession.objects.create(
        patient=nora,
        plan=treatment_plan,
        practitioner=world.pat,
        performed_at=timezone.now() - timedelta(days=2),
        modality="microneedling",
        device="automated_pen",
        notes=INTERNAL_NOTE,
    )
    SessionArea.objects.create(session=session, area="cheeks", depth_mm=Decimal("1.25"))
    # Finalised after charting, as the charting pages do (a final session's areas are locked).
    TreatmentSession.objects.filter(pk=session.pk).update(status=TreatmentSession.Status.FINAL)
    return {"plan": treatment_plan, "consent": consent, "session": session, "proposal": proposal}


@pytest.fixture
def rendered(monkeypatch):
    """Every Document the views render, so the tests can read back what was written."""
    documents = []
    original = pdf.render_document

    def spy(template_name, context):
        document = original(template_name, context)
        documents.append(document)
        return document

    monkeypatch.setattr(pdf, "render_document", spy)
    return documents


def pdf_text(body: bytes, document) -> str:
    """The PDF's text: pdftotext when the machine has it, else WeasyPrint's laid-out text."""
    if shutil.which("pdftotext"):
        out = subprocess.run(
            ["pdftotext", "-", "-"], input=body, capture_output=True, check=True
        ).stdout
        return " ".join(out.decode().split())
    from weasyprint.formatting_structure import boxes

    texts = [
        box.text
        for page in document.pages
        for box in page._page_box.descendants()
        if isinstance(box, boxes.TextBox)
    ]
    return " ".join(" ".join(texts).split())


def _download(client, url, rendered):
    response = client.get(url)
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"] == "application/pdf"
    assert "no-store" in response["Cache-Control"]
    assert response.content.startswith(b"%PDF-")
    assert len(rendered) == 1
    document = rendered[0]
    assert len(document.pages) >= 1
    return response, pdf_text(response.content, document), document


def test_aftercare_handout_pdf(world, client_as, records, rendered):
    session = records["session"]
    url = reverse("aftercare-pdf", args=[session.pk])
    response, text, _ = _download(client_as("pat"), url, rendered)

    disposition = response["Content-Disposition"]
    assert disposition == f'attachment; filename="aftercare-session-{session.pk}.pdf"'
    assert "Quinn" not in disposition
    assert "Northgate Skin Clinic" in text
    assert "Your aftercare" in text
    assert "Day 0" in text
    assert "Call the clinic" in text
    assert "cold sore" in text  # the antiviral rules: her intake records herpes simplex
    assert "Stop topical retinoids" in text  # pre-care
    assert "1.25 mm" in text
    assert INTERNAL_NOTE not in text
    assert knowledge().bibliography["gupta2011"].citation[:40] in text

    event = AuditEvent.objects.get(action="download", object_type="TreatmentSession")
    assert event.object_id == str(session.pk)
    assert event.patient_id_ref == world.nora.pk
    assert "Nora" not in event.summary


def test_aftercare_page_shows_schedule_and_today(world, client_as, records):
    session = records["session"]
    response = client_as("alice").get(reverse("aftercare-detail", args=[session.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Today is day 2" in html
    assert "No retinoids, acids (AHA/BHA) or vitamin C." in html
    # The depth window explains why "no actives" lasts 5 days after 1.25 mm.
    assert "needle depth used (1.25 mm)" in html
    assert "For 5 days" in html
    assert INTERNAL_NOTE not in html
    assert reverse("aftercare-pdf", args=[session.pk]) in html
    assert AuditEvent.objects.filter(
        action="view", object_type="TreatmentSession", object_id=str(session.pk)
    ).exists()


def test_aftercare_names_the_missing_field(world, client_as, records, rendered):
    # another screened patient: a draft of Nora's two days after her last session would be
    # refused by the gate (the interval) before its missing depth is found
    other = factories.patient(world.pat)
    factories.consultation(world.pat, other)
    draft = TreatmentSession.objects.create(
        patient=other, practitioner=world.pat, modality="microneedling", device="x"
    )
    page = client_as("pat").get(reverse("aftercare-detail", args=[draft.pk]))
    assert page.status_code == 200
    assert "session.depth_mm" in page.content.decode()
    download = client_as("pat").get(reverse("aftercare-pdf", args=[draft.pk]))
    assert download.status_code == 409
    assert "session.depth_mm" in download.content.decode()
    assert rendered == []
    assert not AuditEvent.objects.filter(action="download").exists()


def test_plan_pdf(world, client_as, records, rendered):
    treatment_plan = records["plan"]
    url = reverse("plan-pdf", args=[treatment_plan.pk])
    response, text, _ = _download(client_as("alice"), url, rendered)

    assert response["Content-Disposition"] == (
        f'attachment; filename="plan-{treatment_plan.pk}-v-1.pdf"'
    )
    assert "Treatment plan, version 1" in text
    assert "This plan is not a promise of a result." in text
    assert "Herpes simplex (cold sore) history" in text  # a screening finding
    assert "first session shallower to gauge the response" in text  # the adjustment
    depth = next(
        d for d in records["proposal"].courses[0].treatments[0].decisions if d.what == "depth_mm"
    )
    assert " ".join(depth.reason.split())[:60] in text  # a decision's reason
    for key in depth.citations:
        assert knowledge().bibliography[key].citation[:40] in text
    event = AuditEvent.objects.get(action="download", object_type="TreatmentPlan")
    assert event.object_id == str(treatment_plan.pk)
    assert event.patient_id_ref == world.nora.pk


def test_consent_pdf(world, client_as, records, rendered):
    consent = records["consent"]
    url = reverse("consent-pdf", args=[consent.pk])
    response, text, document = _download(client_as("pat"), url, rendered)

    assert response["Content-Disposition"] == f'attachment; filename="consent-{consent.pk}.pdf"'
    assert " ".join(CONSENT_TEXT.split()) in text
    assert "mn-2026-1" in text
    assert consent.text_sha256 in text.replace(" ", "")
    assert "matches the text below" in text
    assert "Nora Quinn" in text
    from weasyprint.formatting_structure import boxes

    images = [
        box
        for page in document.pages
        for box in page._page_box.descendants()
        if isinstance(box, boxes.InlineReplacedBox)
    ]
    assert len(images) == 1  # the drawn signature
    assert AuditEvent.objects.filter(
        action="download", object_type="ConsentRecord", object_id=str(consent.pk)
    ).exists()


def test_consent_pdf_reports_a_hash_mismatch(world, client_as, records, rendered):
    consent = records["consent"]
    ConsentRecord.objects.filter(pk=consent.pk).update(text_sha256="0" * 64)
    _, text, _ = _download(client_as("pat"), reverse("consent-pdf", args=[consent.pk]), rendered)
    assert "does NOT match the text below" in text


DOCUMENT_URLS = [
    ("aftercare-detail", "session"),
    ("aftercare-pdf", "session"),
    ("plan-pdf", "plan"),
    ("consent-pdf", "consent"),
]


@pytest.mark.parametrize(("name", "record"), DOCUMENT_URLS)
@pytest.mark.parametrize(
    ("persona", "status"), [("fran", 403), ("nobody", 403), ("oscar", 404), ("anonymous", 302)]
)
def test_documents_refused(world, client_as, records, rendered, name, record, persona, status):
    url = reverse(name, args=[records[record].pk])
    response = client_as(persona).get(url)
    assert response.status_code == status
    if status == 302:
        assert response["Location"].startswith(reverse("login"))
    assert rendered == []
    assert not AuditEvent.objects.filter(action__in=["view", "download"]).exists()


@pytest.mark.parametrize("name", ["aftercare-pdf", "aftercare-detail"])
def test_documents_are_read_only(world, client_as, records, name):
    response = client_as("pat").post(reverse(name, args=[records["session"].pk]))
    assert response.status_code == 405


def test_fetcher_serves_static_files_and_refuses_the_network(monkeypatch):
    def no_network(*args, **kwargs):
        raise AssertionError("a PDF must never open a network connection")

    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(socket.socket, "connect", no_network)
    fetcher = pdf._fetcher_class()()
    css = fetcher.fetch(pdf.BASE_URL + "static/clinic/print.css")
    assert b"@page" in css.read()
    for url in (
        "https://example.org/tracker.png",
        "http://127.0.0.1:8000/static/clinic/print.css",
        pdf.BASE_URL + "static/../settings.py",
        pdf.BASE_URL + "static/clinic/missing.css",
        "file:///etc/passwd",
    ):
        with pytest.raises(ValueError, match="static files"):
            fetcher.fetch(url)


def test_safe_filename_keeps_names_out():
    assert pdf.safe_filename("Aftercare", "Nora Quinn/../x", 3) == "aftercare-nora-quinn-..-x-3.pdf"
    assert pdf.safe_filename("plan", 7, "v", 2) == "plan-7-v-2.pdf"


def _record(world, client_as, clinical=True):
    """The patient's record page as the practitioner, or as the front desk."""
    client = client_as("pat" if clinical else "fran")
    return client.get(reverse("patient-detail", args=[world.nora.pk])).content.decode()


def test_record_page_shows_today(world, records, client_as):
    old = TreatmentSession.objects.create(
        patient=world.nora,
        practitioner=world.pat,
        modality="microdermabrasion",
        device="diamond_tip",
        performed_at=timezone.now() - timedelta(days=20),
    )
    html = _record(world, client_as)
    session = records["session"]
    assert "day 2" in html
    assert "No retinoids, acids (AHA/BHA) or vitamin C." in html  # still inside its 5 days
    assert reverse("aftercare-detail", args=[session.pk]) in html
    assert reverse("aftercare-pdf", args=[session.pk]) in html
    assert reverse("aftercare-detail", args=[old.pk]) not in html


def test_record_page_shows_no_aftercare_to_the_front_desk(world, records, client_as):
    html = _record(world, client_as, clinical=False)
    assert "No retinoids" not in html
    assert reverse("aftercare-detail", args=[records["session"].pk]) not in html
