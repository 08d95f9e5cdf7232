"""Who and what the demo is made of: clinics, staff, name lists, assessments and intakes.

Every clinical value here is a core input (an area, a concern, a severity on its named scale, an
intake answer); what to do about it is left to the core.
"""

from __future__ import annotations

from dataclasses import dataclass

from dermis.web.clinic.models import Role

MN, MD = "microneedling", "microdermabrasion"


@dataclass(frozen=True)
class StaffSpec:
    username: str
    role: str
    name: str
    credentials: str = ""
    treatments: tuple[str, ...] = ()
    bio: str = ""


@dataclass(frozen=True)
class ClinicSpec:
    slug: str
    name: str
    town: str
    postcode: str
    phone: str
    locations: tuple[tuple[str, str, str], ...]  # name, address, postcode
    staff: tuple[StaffSpec, ...]


CLINICS = (
    ClinicSpec(
        slug="demo-northgate",
        name="Northgate Skin Clinic",
        town="Leeds",
        postcode="LS1 4AP",
        phone="0113 496 0000",
        locations=(
            ("Northgate", "12 Northgate Row", "LS1 4AP"),
            ("Headingley", "3 Otley Road", "LS6 3AA"),
        ),
        staff=(
            StaffSpec("ng.admin", Role.ADMIN, "Morgan Hale"),
            StaffSpec(
                "ng.priya",
                Role.PRACTITIONER,
                "Priya Raman",
                "RGN, NMC registered; Level 7 aesthetic medicine",
                (MN, MD),
                "Nurse practitioner with ten years in acne-scar and photoageing care.",
            ),
            StaffSpec(
                "ng.tom",
                Role.PRACTITIONER,
                "Tom Ashworth",
                "Level 4 Skin Therapy; Level 5 microneedling",
                (MN, MD),
                "Skin therapist: stretch marks, texture and pigmentation.",
            ),
            StaffSpec("ng.desk", Role.FRONT_DESK, "Jess Cole"),
        ),
    ),
    ClinicSpec(
        slug="demo-riverside",
        name="Riverside Aesthetics",
        town="York",
        postcode="YO1 7HH",
        phone="01904 496 000",
        locations=(("Ouse Walk", "2 Ouse Walk", "YO1 7HH"),),
        staff=(
            StaffSpec("rs.admin", Role.ADMIN, "Helen Marsh"),
            StaffSpec(
                "rs.omar",
                Role.PRACTITIONER,
                "Dr Omar Haddad",
                "MBChB, GMC registered",
                (MN,),
                "Aesthetic doctor: collagen induction for scars and laxity.",
            ),
            StaffSpec(
                "rs.isla",
                Role.PRACTITIONER,
                "Isla Grant",
                "Level 4 Skin Therapy",
                (MN, MD),
                "Skin therapist: microdermabrasion for tone and pores.",
            ),
            StaffSpec("rs.desk", Role.FRONT_DESK, "Ben Carter"),
        ),
    ),
)

# The journey, in the order patients are made: (stage, patients per clinic).
STAGES = (
    ("registered", 4),
    ("not_safe", 2),
    ("deferred", 1),
    ("accepted", 4),
    ("mid_series", 6),
    ("completed", 5),
    ("maintenance", 3),
)
PER_CLINIC = sum(n for _, n in STAGES)


@dataclass(frozen=True)
class Profile:
    """An assessment to give the core: (area, concern, severity) items and a preference."""

    items: tuple[tuple[str, str, float], ...]
    modality: str
    goal: str


PROFILES = (
    Profile((("forehead", "fine_lines", 3), ("periorbital", "fine_lines", 2)), MN, "softer lines"),
    Profile(
        (("cheeks", "acne_scars_rolling", 3), ("cheeks", "acne_scars_boxcar", 2)),
        MN,
        "smoother cheeks",
    ),
    Profile((("cheeks", "enlarged_pores", 2), ("nose", "enlarged_pores", 2)), MD, "finer pores"),
    Profile((("cheeks", "uneven_tone", 2), ("forehead", "uneven_tone", 1.5)), MD, "even tone"),
    Profile((("abdomen", "stretch_marks", 3),), MN, "fainter stretch marks"),
    Profile((("neck", "laxity", 2), ("decolletage", "fine_lines", 2)), MN, "firmer neck"),
    Profile(
        (("cheeks", "uneven_texture", 2), ("chin", "acne_scars_rolling", 2)), MN, "smoother skin"
    ),
)
ACNE_SCARS = PROFILES[1]
BOXCAR_ONLY = Profile((("cheeks", "acne_scars_boxcar", 3),), MN, "smoother cheeks")

# Intakes of patients who can be treated; some bring a precaution the plan has to show.
INTAKES = (
    {},
    {},
    {},
    {"herpes_simplex_history": True, "medications": ["aciclovir when needed"]},
    {"medical_history": ["hypothyroidism"], "medications": ["levothyroxine"]},
    {"diabetes": "controlled", "medical_history": ["type 2 diabetes"]},
    {"anticoagulants": True, "medications": ["apixaban"]},
    {"hypertrophic_scar_history": True},
    {"metal_allergy": True},
)

FEMALE = (
    "Amelia", "Sophie", "Grace", "Hannah", "Chloe", "Aisha", "Mei", "Zara", "Ella", "Ruth",
    "Niamh", "Leah", "Fatima", "Joanna", "Olivia", "Freya", "Imogen", "Priti", "Kate", "Maya",
)  # fmt: skip
MALE = ("James", "Daniel", "Kwame", "Liam", "Arjun", "Sam", "Owen", "Marek", "Luca", "Ravi")
FAMILY = (
    "Smith", "Khan", "Patel", "Walker", "Brown", "Okafor", "Nowak", "Wright", "Hughes", "Chen",
    "Evans", "Ali", "Taylor", "Murphy", "Begum", "Clarke", "Jones", "Silva", "Price", "Reid",
    "Kaur", "Dixon", "Moore", "Lewis", "Shah", "Fraser", "Bell", "Ward", "Young", "Fox",
)  # fmt: skip
STREETS = (
    "Mill Lane", "Church Street", "Victoria Road", "Park Avenue", "Station Road",
    "The Crescent", "Albert Terrace", "Moor View", "Orchard Close", "High Street",
)  # fmt: skip
PHOTOTYPES = (("I", "II", "III", "IV", "V", "VI"), (1, 3, 3, 2, 1, 1))
