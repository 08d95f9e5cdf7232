"""What a clinic keeps: staff and roles, patients, consultations, plans, sessions, photos, audit.

Clinical content produced by the core (intake, assessment, screening, plan, aftercare) is stored
as the core's own JSON (`to_dict()` / `model_dump()`), so a record shows exactly what the core said
at the time, with the knowledge-base version that said it. Models hold no clinical rules.
"""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.db import models
from django.utils import timezone

MODALITIES = [("microneedling", "Microneedling"), ("microdermabrasion", "Microdermabrasion")]
PHOTOTYPES = [(p, p) for p in ("I", "II", "III", "IV", "V", "VI")]
SEXES = [("f", "Female"), ("m", "Male"), ("x", "Other / not stated")]


class Role(models.TextChoices):
    ADMIN = "admin", "Clinic admin"
    PRACTITIONER = "practitioner", "Practitioner"
    FRONT_DESK = "front_desk", "Front desk"


# Roles that may see medical history, clinical notes, plans, sessions and photos.
CLINICAL_ROLES = frozenset({Role.ADMIN, Role.PRACTITIONER})


class Clinic(models.Model):
    name = models.CharField(max_length=200)
    slug = models.SlugField(unique=True)
    town = models.CharField(max_length=100)
    postcode = models.CharField(max_length=16)
    phone = models.CharField(max_length=40, blank=True)
    email = models.EmailField(blank=True)
    website = models.URLField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Location(models.Model):
    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="locations")
    name = models.CharField(max_length=200)
    address = models.CharField(max_length=300)
    town = models.CharField(max_length=100)
    postcode = models.CharField(max_length=16)

    class Meta:
        ordering = ["clinic", "name"]

    def __str__(self) -> str:
        return f"{self.clinic.name}, {self.name}"


class StaffMember(models.Model):
    """A user's place in one clinic. A user without one sees no patient."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff"
    )
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="staff")
    role = models.CharField(max_length=20, choices=Role.choices)
    display_name = models.CharField(max_length=200)
    credentials = models.CharField(
        max_length=300, blank=True, help_text="qualifications and registrations, shown publicly"
    )
    treatments = models.JSONField(
        default=list, blank=True, help_text="modalities offered, e.g. ['microneedling']"
    )
    bio = models.TextField(blank=True)
    locations = models.ManyToManyField(Location, blank=True, related_name="staff")
    listed_in_directory = models.BooleanField(default=False)

    class Meta:
        ordering = ["clinic", "display_name"]

    def __str__(self) -> str:
        return f"{self.display_name} ({self.get_role_display()}, {self.clinic.name})"

    @property
    def is_clinical(self) -> bool:
        return self.role in CLINICAL_ROLES

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN


class Patient(models.Model):
    """Demographics: what front desk may see. Everything medical hangs off this record."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="patients")
    given_name = models.CharField(max_length=100)
    family_name = models.CharField(max_length=100)
    date_of_birth = models.DateField()
    sex = models.CharField(max_length=1, choices=SEXES, default="f")
    fitzpatrick = models.CharField(
        max_length=3, choices=PHOTOTYPES, blank=True, help_text="set at the consultation"
    )
    phone = models.CharField(max_length=40, blank=True)
    email = models.EmailField(blank=True)
    address = models.CharField(max_length=300, blank=True)
    email_reminders = models.BooleanField(default=True)
    sms_reminders = models.BooleanField(default=True)
    booking_preferences = models.JSONField(
        default=dict,
        blank=True,
        help_text='{"weekdays": [0..6], "times": [["09:00","12:00"]], "practitioner": id}',
    )
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["family_name", "given_name"]
        indexes = [
            models.Index(fields=["clinic", "family_name"]),
            models.Index(fields=["clinic", "date_of_birth"]),
        ]

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        return f"{self.given_name} {self.family_name}"

    def age_on(self, day: date) -> int:
        dob = self.date_of_birth
        return day.year - dob.year - ((day.month, day.day) < (dob.month, dob.day))


class Consultation(models.Model):
    """Intake and assessment as the core's inputs, and what the core answered (snapshots)."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        ACCEPTED = "accepted", "Plan accepted"
        CLOSED = "closed", "Closed without a plan"

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="consultations")
    practitioner = models.ForeignKey(
        StaffMember, null=True, on_delete=models.SET_NULL, related_name="consultations"
    )
    created_at = models.DateTimeField(default=timezone.now)
    as_of = models.DateField(default=timezone.localdate)
    intake = models.JSONField(help_text="dermis.core.patient.Intake, model_dump(mode='json')")
    assessment = models.JSONField(help_text="dermis.core.patient.Assessment")
    screening = models.JSONField(help_text="Screening.to_dict() at as_of")
    proposal = models.JSONField(help_text="Plan.to_dict(): the planner's proposal")
    knowledge_version = models.CharField(max_length=40)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Consultation {self.pk} ({self.as_of})"


class ConsentRecord(models.Model):
    """The consent text exactly as shown, its version and hash, and the drawn signature."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="consents")
    consultation = models.ForeignKey(
        Consultation, null=True, blank=True, on_delete=models.PROTECT, related_name="consents"
    )
    text_version = models.CharField(max_length=40)
    text = models.TextField()
    text_sha256 = models.CharField(max_length=64)
    signature_png = models.BinaryField(help_text="the drawn signature, PNG")
    signer_name = models.CharField(max_length=200)
    signed_at = models.DateTimeField(default=timezone.now)
    witnessed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    ip_address = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ["-signed_at"]

    def __str__(self) -> str:
        return f"Consent {self.pk} ({self.text_version})"


class TreatmentPlan(models.Model):
    """One version of a patient's plan. A revision adds a version; old ones stay as they were."""

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        SUPERSEDED = "superseded", "Superseded"
        COMPLETED = "completed", "Completed"

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="plans")
    consultation = models.ForeignKey(Consultation, on_delete=models.PROTECT, related_name="plans")
    consent = models.ForeignKey(
        ConsentRecord, null=True, blank=True, on_delete=models.PROTECT, related_name="plans"
    )
    version = models.PositiveIntegerField()
    previous = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="next_version"
    )
    content = models.JSONField(help_text="Plan.to_dict() with the practitioner's adjustments")
    adjustments = models.JSONField(
        default=list, blank=True, help_text="[{what, area, from, to, reason}] against the proposal"
    )
    note = models.TextField(blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.ACTIVE)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["patient", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["patient", "version"], name="plan_version_unique"),
        ]

    def __str__(self) -> str:
        return f"Plan {self.pk} v{self.version}"


class Room(models.Model):
    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="rooms")
    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="rooms")
    name = models.CharField(max_length=100)

    class Meta:
        ordering = ["location", "name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.location.name})"


class Equipment(models.Model):
    """One physical device (a pen, a diamond-tip machine): in one place at a time."""

    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="equipment")
    name = models.CharField(max_length=100)
    device = models.CharField(max_length=40, help_text="knowledge-base device id")
    serial_number = models.CharField(max_length=60, blank=True)

    class Meta:
        ordering = ["clinic", "name"]

    def __str__(self) -> str:
        return self.name


class WorkingHours(models.Model):
    staff = models.ForeignKey(StaffMember, on_delete=models.CASCADE, related_name="working_hours")
    location = models.ForeignKey(
        Location, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    weekday = models.PositiveSmallIntegerField(help_text="0 = Monday ... 6 = Sunday")
    start = models.TimeField()
    end = models.TimeField()

    class Meta:
        ordering = ["staff", "weekday", "start"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end__gt=models.F("start")), name="hours_end_after_start"
            ),
            models.CheckConstraint(condition=models.Q(weekday__lte=6), name="hours_weekday_range"),
        ]

    def __str__(self) -> str:
        return f"{self.staff_id} day {self.weekday} {self.start}-{self.end}"


class TimeOff(models.Model):
    staff = models.ForeignKey(StaffMember, on_delete=models.CASCADE, related_name="time_off")
    start = models.DateTimeField()
    end = models.DateTimeField()
    reason = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["start"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end__gt=models.F("start")), name="timeoff_end_after_start"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.staff_id} off {self.start:%Y-%m-%d}"


class Appointment(models.Model):
    class Kind(models.TextChoices):
        CONSULTATION = "consultation", "Consultation"
        TREATMENT = "treatment", "Treatment session"
        FOLLOW_UP = "follow_up", "Follow-up"
        MAINTENANCE = "maintenance", "Maintenance"

    class Status(models.TextChoices):
        BOOKED = "booked", "Booked"
        DONE = "done", "Done"
        CANCELLED = "cancelled", "Cancelled"
        NO_SHOW = "no_show", "Did not attend"

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="appointments")
    location = models.ForeignKey(
        Location, null=True, blank=True, on_delete=models.PROTECT, related_name="appointments"
    )
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="appointments")
    practitioner = models.ForeignKey(
        StaffMember, on_delete=models.PROTECT, related_name="appointments"
    )
    plan = models.ForeignKey(
        TreatmentPlan, null=True, blank=True, on_delete=models.SET_NULL, related_name="appointments"
    )
    room = models.ForeignKey(
        "Room", null=True, blank=True, on_delete=models.PROTECT, related_name="appointments"
    )
    equipment = models.ForeignKey(
        "Equipment", null=True, blank=True, on_delete=models.PROTECT, related_name="appointments"
    )
    series_key = models.UUIDField(null=True, blank=True, db_index=True, help_text="booked together")
    series_index = models.PositiveSmallIntegerField(null=True, blank=True, help_text="1, 2, ...")
    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.TREATMENT)
    start = models.DateTimeField()
    end = models.DateTimeField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.BOOKED)
    notes = models.CharField(max_length=300, blank=True, help_text="front-desk note, not clinical")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["start"]
        indexes = [models.Index(fields=["practitioner", "start"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end__gt=models.F("start")), name="appt_end_after_start"
            ),
        ]

    def __str__(self) -> str:
        return f"Appointment {self.pk} ({self.start:%Y-%m-%d %H:%M})"


class TreatmentSession(models.Model):
    """A charted session. Finalising signs and locks it; later changes are addenda."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        FINAL = "final", "Finalised"

    class Endpoint(models.TextChoices):
        NONE = "none", "None reached"
        ERYTHEMA = "erythema", "Even erythema"
        PINPOINT_BLEEDING = "pinpoint_bleeding", "Pinpoint bleeding"

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="sessions")
    plan = models.ForeignKey(
        TreatmentPlan, null=True, blank=True, on_delete=models.PROTECT, related_name="sessions"
    )
    appointment = models.OneToOneField(
        Appointment, null=True, blank=True, on_delete=models.SET_NULL, related_name="session"
    )
    practitioner = models.ForeignKey(StaffMember, on_delete=models.PROTECT, related_name="sessions")
    performed_at = models.DateTimeField(default=timezone.now)
    duration_minutes = models.PositiveIntegerField(default=60)
    modality = models.CharField(max_length=20, choices=MODALITIES)
    device = models.CharField(max_length=40, help_text="knowledge-base device id")
    cartridge = models.CharField(max_length=100, blank=True, help_text="needle cartridge or tip")
    lot_number = models.CharField(max_length=60, blank=True)
    serum = models.CharField(max_length=200, blank=True)
    numbing = models.CharField(max_length=200, blank=True)
    endpoint = models.CharField(max_length=20, choices=Endpoint.choices, default=Endpoint.NONE)
    immediate_reactions = models.TextField(blank=True)
    notes = models.TextField(blank=True)
    status = models.CharField(max_length=6, choices=Status.choices, default=Status.DRAFT)
    finalised_at = models.DateTimeField(null=True, blank=True)
    finalised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    content_sha256 = models.CharField(
        max_length=64, blank=True, help_text="hash of the record as finalised"
    )

    class Meta:
        ordering = ["-performed_at"]

    def __str__(self) -> str:
        return f"Session {self.pk} ({self.modality})"

    @property
    def is_final(self) -> bool:
        return self.status == self.Status.FINAL


class SessionArea(models.Model):
    session = models.ForeignKey(TreatmentSession, on_delete=models.CASCADE, related_name="areas")
    area = models.CharField(max_length=40, help_text="knowledge-base area id")
    depth_mm = models.DecimalField(max_digits=4, decimal_places=2, null=True, blank=True)
    tip = models.CharField(max_length=10, blank=True)
    passes = models.PositiveSmallIntegerField(default=1)

    class Meta:
        ordering = ["session", "area"]
        constraints = [
            models.UniqueConstraint(fields=["session", "area"], name="session_area_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.area} in session {self.session_id}"


class SessionAddendum(models.Model):
    session = models.ForeignKey(TreatmentSession, on_delete=models.PROTECT, related_name="addenda")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    text = models.TextField()

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"Addendum {self.pk} to session {self.session_id}"


class Photo(models.Model):
    """A clinical photo. The file lives under settings.PHOTO_ROOT, outside any web root."""

    class Stage(models.TextChoices):
        BEFORE = "before", "Before"
        AFTER = "after", "After"
        FOLLOW_UP = "follow_up", "Follow-up"

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="photos")
    session = models.ForeignKey(
        TreatmentSession, null=True, blank=True, on_delete=models.PROTECT, related_name="photos"
    )
    area = models.CharField(max_length=40)
    stage = models.CharField(max_length=10, choices=Stage.choices, default=Stage.BEFORE)
    taken_on = models.DateField(default=timezone.localdate)
    storage_name = models.CharField(max_length=80, unique=True, help_text="file name in PHOTO_ROOT")
    content_type = models.CharField(max_length=20)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    size_bytes = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    consent_for_record = models.BooleanField(
        default=True, help_text="the patient agreed to this photo being kept in the record"
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["area", "taken_on", "uploaded_at"]

    def __str__(self) -> str:
        return f"Photo {self.pk} ({self.area}, {self.taken_on})"


class FollowUpGrade(models.Model):
    """A grade on a concern's named scale at a follow-up (the outcome model's personalisation)."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="grades")
    plan = models.ForeignKey(
        TreatmentPlan, null=True, blank=True, on_delete=models.PROTECT, related_name="grades"
    )
    area = models.CharField(max_length=40)
    concern = models.CharField(max_length=40)
    grade = models.FloatField(help_text="on the concern's scale (knowledge base)")
    baseline = models.FloatField(null=True, blank=True, help_text="grade before treatment")
    graded_on = models.DateField(default=timezone.localdate)
    graded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    notes = models.TextField(blank=True)

    class Meta:
        ordering = ["graded_on"]

    def __str__(self) -> str:
        return f"Grade {self.pk} ({self.area}/{self.concern})"


class AuditQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise PermissionError("the audit log is append-only")

    def delete(self):
        raise PermissionError("the audit log is append-only")


class AuditEvent(models.Model):
    """Who saw or changed what in a patient's record, when and from where. Append-only.

    The patient is kept as a plain id (not a foreign key) so the trail outlives an erasure.
    """

    class Action(models.TextChoices):
        VIEW = "view", "Viewed"
        CREATE = "create", "Created"
        UPDATE = "update", "Changed"
        SIGN = "sign", "Signed"
        DOWNLOAD = "download", "Downloaded"
        EXPORT = "export", "Exported"
        ERASE = "erase", "Erased"
        DENIED = "denied", "Access refused"

    at = models.DateTimeField(default=timezone.now, db_index=True)
    clinic = models.ForeignKey(
        Clinic, null=True, on_delete=models.SET_NULL, related_name="audit_events"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    username = models.CharField(max_length=150)
    patient_id_ref = models.BigIntegerField(null=True, db_index=True)
    action = models.CharField(max_length=10, choices=Action.choices)
    object_type = models.CharField(max_length=40)
    object_id = models.CharField(max_length=40, blank=True)
    summary = models.CharField(max_length=200, blank=True, help_text="never patient data")
    path = models.CharField(max_length=300, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)

    objects = AuditQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.username} {self.action} {self.object_type}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise PermissionError("the audit log is append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("the audit log is append-only")


class Reminder(models.Model):
    """One message to send: an outbox row, so a reminder is neither lost nor sent twice.

    `key` is unique per appointment/patient, kind and channel: planning reminders twice cannot
    create two rows. The worker claims a row, sends, and marks it sent (see reminders.py).
    """

    class Kind(models.TextChoices):
        APPOINTMENT = "appointment", "Appointment reminder"
        PRECARE = "precare", "Pre-care instructions"
        AFTERCARE_DAY1 = "aftercare_day1", "Aftercare check-in, day 1"
        AFTERCARE_DAY3 = "aftercare_day3", "Aftercare check-in, day 3"
        RECALL = "recall", "Maintenance recall"

    class Channel(models.TextChoices):
        EMAIL = "email", "Email"
        SMS = "sms", "SMS"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"
        OPTED_OUT = "opted_out", "Not sent: patient opted out"

    key = models.CharField(max_length=120, unique=True)
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="reminders")
    appointment = models.ForeignKey(
        Appointment, null=True, blank=True, on_delete=models.CASCADE, related_name="reminders"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    channel = models.CharField(max_length=8, choices=Channel.choices, default=Channel.EMAIL)
    due_at = models.DateTimeField(db_index=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    message_id = models.CharField(max_length=200, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["due_at"]

    def __str__(self) -> str:
        return f"Reminder {self.pk} {self.kind}/{self.channel} {self.status}"


class CalendarFeed(models.Model):
    """A secret, revocable URL for a practitioner's or a patient's iCalendar feed.

    Only a hash of the token is stored; the URL is shown once when the feed is created.
    """

    token_sha256 = models.CharField(max_length=64, unique=True)
    staff = models.ForeignKey(
        StaffMember, null=True, blank=True, on_delete=models.CASCADE, related_name="feeds"
    )
    patient = models.ForeignKey(
        Patient, null=True, blank=True, on_delete=models.CASCADE, related_name="feeds"
    )
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(staff__isnull=False, patient__isnull=True)
                | models.Q(staff__isnull=True, patient__isnull=False),
                name="feed_one_owner",
            ),
        ]

    def __str__(self) -> str:
        return f"Feed {self.pk}"
