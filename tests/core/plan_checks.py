"""Checks on a plan, named for the patient-case table (each says what it checks when it fails)."""

from datetime import date

from dermis.core.planning import Plan


def _treatment(p: Plan, area: str, modality: str | None = None):
    return next(
        (t, c)
        for c in p.courses
        for t in c.treatments
        if t.area == area and modality in (None, c.modality)
    )


def treated(area: str, modality: str):
    def check(p: Plan) -> bool:
        return any(
            t.area == area for c in p.courses if c.modality == modality for t in c.treatments
        )

    check.__name__ = f"treated({area}, {modality})"
    return check


def not_treated(area: str, words: str = ""):
    def check(p: Plan) -> bool:
        return any(d.what.startswith(f"{area}/") and words in d.reason for d in p.not_treated)

    check.__name__ = f"not_treated({area}, {words!r})"
    return check


def never(modality: str):
    def check(p: Plan) -> bool:
        return all(c.modality != modality for c in p.courses)

    check.__name__ = f"never({modality})"
    return check


def depth_at_most(area: str, mm: float):
    def check(p: Plan) -> bool:
        return _treatment(p, area, "microneedling")[0].depth_mm <= mm

    check.__name__ = f"depth_at_most({area}, {mm})"
    return check


def tip(area: str, expected: str):
    def check(p: Plan) -> bool:
        return _treatment(p, area, "microdermabrasion")[0].tip == expected

    check.__name__ = f"tip({area}, {expected})"
    return check


def passes(area: str, n: int):
    def check(p: Plan) -> bool:
        t, _ = _treatment(p, area, "microdermabrasion")
        return next(d.value for d in t.decisions if d.what == "passes") == n

    check.__name__ = f"passes({area}, {n})"
    return check


def interval_at_least(modality: str, days: int):
    def check(p: Plan) -> bool:
        return next(c for c in p.courses if c.modality == modality).interval_days >= days

    check.__name__ = f"interval_at_least({modality}, {days})"
    return check


def device(area: str, expected: str):
    def check(p: Plan) -> bool:
        return _treatment(p, area, "microneedling")[0].device == expected

    check.__name__ = f"device({area}, {expected})"
    return check


def no_serum(serum: str):
    def check(p: Plan) -> bool:
        return all(d.value != serum for c in p.courses for d in c.serums)

    check.__name__ = f"no_serum({serum})"
    return check


def visits(modality: str, n: int):
    def check(p: Plan) -> bool:
        course = next(c for c in p.courses if c.modality == modality)
        found = [d.value for d in course.decisions if d.what == "visits_per_session"]
        return len(found[0]) == n if found else n == 1

    check.__name__ = f"visits({modality}, {n})"
    return check


def starts(area: str, when: date):
    def check(p: Plan) -> bool:
        return _treatment(p, area)[0].earliest_start == when

    check.__name__ = f"starts({area}, {when})"
    return check


def status(expected: str):
    def check(p: Plan) -> bool:
        return p.status == expected

    check.__name__ = f"status({expected})"
    return check
