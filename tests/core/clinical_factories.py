"""Small builders for core inputs, shared by the core tests."""

from datetime import date

from dermis.core.patient import Assessment, Intake, Patient

TODAY = date(2026, 11, 23)


def patient(fitzpatrick: str = "II", age: int = 40) -> Patient:
    return Patient(age=age, fitzpatrick=fitzpatrick)


def intake(**answers) -> Intake:
    return Intake(**answers)


def assessment(*concerns: tuple[str, str, float], **extra) -> Assessment:
    return Assessment(
        concerns=[{"area": a, "concern": c, "severity": s} for a, c, s in concerns], **extra
    )
