"""What a clinic keeps, by topic: tenancy (clinics, staff, roles), patients, consultations (plans,
consent), scheduling, charting (sessions, photos), outcomes (grades), reminders and audit.

Clinical content produced by the core (intake, assessment, screening, plan, aftercare) is stored
as the core's own JSON (`to_dict()` / `model_dump()`), so a record shows exactly what the core said
at the time, with the knowledge-base version that said it. Models hold no clinical rules; only the
services of each context write them.
"""

from dermis.web.clinic.models.audit import (
    AuditChainHead,
    AuditEvent,
    AuditEventPatient,
    AuditQuerySet,
)
from dermis.web.clinic.models.charting import Photo, SessionAddendum, SessionArea, TreatmentSession
from dermis.web.clinic.models.consultations import ConsentRecord, Consultation, TreatmentPlan
from dermis.web.clinic.models.outcomes import FollowUpGrade, OutcomeParameterSet
from dermis.web.clinic.models.patients import (
    Patient,
    PatientMerge,
    PatientTally,
    PatientVersion,
    ReferenceVersion,
)
from dermis.web.clinic.models.portal import (
    CheckIn,
    ErasureRequest,
    PortalIntake,
    PortalLink,
    PortalSettings,
    PortalThrottle,
)
from dermis.web.clinic.models.recall import (
    LatestRecallContact,
    RecallContact,
    RecallEntry,
    RecallRecompute,
    RecallVersion,
)
from dermis.web.clinic.models.reminders import Reminder
from dermis.web.clinic.models.safety import SafetyOverride, ScreeningRecheck
from dermis.web.clinic.models.scheduling import (
    ATTENDED_STATUSES,
    LONGEST_APPOINTMENT,
    OPEN_STATUSES,
    Appointment,
    AppointmentTally,
    CalendarFeed,
    ClosureDay,
    Equipment,
    Room,
    ScheduleVersion,
    TimeOff,
    WorkingHours,
    overlapping,
)
from dermis.web.clinic.models.tenancy import (
    CLINICAL_ROLES,
    MODALITIES,
    PHOTOTYPES,
    SEXES,
    Clinic,
    Location,
    Role,
    StaffMember,
)
from dermis.web.clinic.models.waitlist import AppointmentReply, WaitlistEntry, WaitlistOffer

__all__ = [
    "ATTENDED_STATUSES",
    "CLINICAL_ROLES",
    "LONGEST_APPOINTMENT",
    "MODALITIES",
    "OPEN_STATUSES",
    "PHOTOTYPES",
    "SEXES",
    "Appointment",
    "AppointmentReply",
    "AppointmentTally",
    "AuditChainHead",
    "AuditEvent",
    "AuditEventPatient",
    "AuditQuerySet",
    "CalendarFeed",
    "CheckIn",
    "Clinic",
    "ClosureDay",
    "ConsentRecord",
    "Consultation",
    "Equipment",
    "ErasureRequest",
    "FollowUpGrade",
    "LatestRecallContact",
    "Location",
    "OutcomeParameterSet",
    "Patient",
    "PatientMerge",
    "PatientTally",
    "PatientVersion",
    "Photo",
    "PortalIntake",
    "PortalLink",
    "PortalSettings",
    "PortalThrottle",
    "RecallContact",
    "RecallEntry",
    "RecallRecompute",
    "RecallVersion",
    "ReferenceVersion",
    "Reminder",
    "Role",
    "Room",
    "SafetyOverride",
    "ScheduleVersion",
    "ScreeningRecheck",
    "SessionAddendum",
    "SessionArea",
    "StaffMember",
    "TimeOff",
    "TreatmentPlan",
    "TreatmentSession",
    "WaitlistEntry",
    "WaitlistOffer",
    "WorkingHours",
    "overlapping",
]
