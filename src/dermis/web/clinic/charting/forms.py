"""Forms of session charting: the chart (one row of inputs per knowledge-base area), addenda.

The form only parses; limits are checked by the core (`charting.check_chart`) and its issues are
attached to the fields they name with `add_issues`.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS
from django.utils import timezone

from dermis.core.charting_checks import ChartedArea, Issue, Level
from dermis.core.knowledge.schema import KnowledgeBase
from dermis.web.clinic.charting.selectors import Chart
from dermis.web.clinic.charting.services import ADDENDUM_MAX_CHARS
from dermis.web.clinic.models import TreatmentSession

TIP_CHOICES = [("", "No tip"), ("fine", "Fine"), ("medium", "Medium"), ("coarse", "Coarse")]
DATETIME_FORMAT = "%Y-%m-%dT%H:%M"


@dataclass
class AreaRow:
    """One area's inputs, for the template: the checkbox, depth or tip, passes."""

    id: str
    name: str
    region: str
    treat: forms.BoundField
    value: forms.BoundField
    passes: forms.BoundField

    @property
    def checked(self) -> bool:
        return bool(self.treat.value())

    @property
    def has_errors(self) -> bool:
        return bool(self.treat.errors or self.value.errors or self.passes.errors)


class SessionForm(forms.Form):
    performed_at = forms.DateTimeField(
        label="Date and time",
        input_formats=[DATETIME_FORMAT, "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_FORMAT),
    )
    duration_minutes = forms.IntegerField(label="Duration (minutes)", min_value=10, max_value=240)
    device = forms.ChoiceField(label="Device")
    cartridge = forms.CharField(max_length=100, required=False)
    lot_number = forms.CharField(
        label="Lot number", max_length=60, required=False, help_text="Required to finalise."
    )
    serum = forms.CharField(label="Serum or glide", max_length=200, required=False)
    numbing = forms.CharField(
        label="Numbing", max_length=200, required=False, help_text="Product and minutes applied."
    )
    endpoint = forms.ChoiceField(
        label="Clinical endpoint",
        choices=TreatmentSession.Endpoint.choices,
        widget=forms.RadioSelect,
    )
    immediate_reactions = forms.CharField(
        label="Immediate reactions", required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    notes = forms.CharField(label="Notes", required=False, widget=forms.Textarea(attrs={"rows": 4}))
    precare_done = forms.BooleanField(
        label="Pre-care was done",
        required=False,
        help_text="Tick when the patient followed the pre-care in time (asked when the session "
        "was booked at short notice or without an appointment).",
    )
    override_reason = forms.CharField(
        label="Override reason",
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Only to go ahead despite a relative finding with a date: write why.",
    )

    def __init__(self, *args, modality: str, kb: KnowledgeBase, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.modality = modality
        self.kb = kb
        self.warnings: list[Issue] = []
        needling = modality == "microneedling"
        self.fields["device"].choices = [
            (key, d.name + (" (home use)" if d.setting == "home" else ""))
            for key, d in kb.devices.items()
            if d.modality == modality
        ]
        self.fields["cartridge"].label = "Needle cartridge" if needling else "Tip or crystal"
        self.fields["cartridge"].help_text = "Required to finalise."
        for key, area in kb.areas.items():
            self.fields[f"treat_{key}"] = forms.BooleanField(label=area.name, required=False)
            if needling:
                self.fields[f"depth_{key}"] = forms.DecimalField(
                    label=f"Depth for {area.name} (mm)",
                    required=False,
                    min_value=Decimal("0.05"),
                    max_value=Decimal("3.00"),
                    max_digits=4,
                    decimal_places=2,
                    widget=forms.NumberInput(attrs={"step": "0.05", "inputmode": "decimal"}),
                )
            else:
                self.fields[f"tip_{key}"] = forms.ChoiceField(
                    label=f"Tip for {area.name}", choices=TIP_CHOICES, required=False
                )
            self.fields[f"passes_{key}"] = forms.IntegerField(
                label=f"Passes on {area.name}", required=False, min_value=1, max_value=20
            )

    def _value_name(self, key: str) -> str:
        return f"depth_{key}" if self.modality == "microneedling" else f"tip_{key}"

    @property
    def area_rows(self) -> list[AreaRow]:
        rows = [
            AreaRow(
                key,
                area.name,
                area.region,
                self[f"treat_{key}"],
                self[self._value_name(key)],
                self[f"passes_{key}"],
            )
            for key, area in self.kb.areas.items()
        ]
        return sorted(rows, key=lambda r: r.region != "face")  # face first, then body

    def clean(self):
        data = super().clean()
        if self.modality == "microneedling":
            for key in self.kb.areas:
                name = f"depth_{key}"
                # a depth that failed to parse already has its own error
                if data.get(f"treat_{key}") and data.get(name) is None and name not in self.errors:
                    self.add_error(name, "is required for a treated area")
        return data

    def to_chart(self) -> Chart:
        data = self.cleaned_data
        areas = []
        for key in self.kb.areas:
            if not data.get(f"treat_{key}"):
                continue
            depth = data.get(f"depth_{key}")
            areas.append(
                ChartedArea(
                    key,
                    float(depth) if depth is not None else None,
                    data.get(f"tip_{key}") or None,
                    data.get(f"passes_{key}") or 1,
                )
            )
        return Chart(
            modality=self.modality,
            device=data["device"],
            performed_at=data["performed_at"],
            duration_minutes=data["duration_minutes"],
            cartridge=data["cartridge"].strip(),
            lot_number=data["lot_number"].strip(),
            serum=data["serum"].strip(),
            numbing=data["numbing"].strip(),
            endpoint=data["endpoint"],
            immediate_reactions=data["immediate_reactions"].strip(),
            notes=data["notes"].strip(),
            areas=tuple(areas),
        )

    def field_for(self, issue: Issue) -> str | None:
        if issue.area is None:
            return issue.field if issue.field in self.fields else None
        name = {
            "depth_mm": f"depth_{issue.area}",
            "tip": f"tip_{issue.area}",
            "passes": f"passes_{issue.area}",
        }.get(issue.field, f"treat_{issue.area}")
        return name if name in self.fields else None

    def add_issues(self, issues: list[Issue]) -> None:
        """Attach the core's errors to the fields they name; keep its warnings for display."""
        for issue in issues:
            if issue.level is Level.ERROR:
                self.add_error(self.field_for(issue), issue.message)
        self.warnings = [i for i in issues if i.level is Level.WARNING]

    def error_summary(self) -> list[tuple[str, str, str]]:
        """(input id, label, message) for every error, to list at the top of the form."""
        out = []
        for name, messages in self.errors.items():
            if name == NON_FIELD_ERRORS:
                out += [("", "Chart", m) for m in messages]
                continue
            bound = self[name]
            out += [(bound.id_for_label, bound.label, m) for m in messages]
        return out


def initial_from_chart(chart: Chart) -> dict:
    """Form initial values from a saved (or planned) chart."""
    initial = {
        "performed_at": timezone.localtime(chart.performed_at).strftime(DATETIME_FORMAT),
        "duration_minutes": chart.duration_minutes,
        "device": chart.device,
        "cartridge": chart.cartridge,
        "lot_number": chart.lot_number,
        "serum": chart.serum,
        "numbing": chart.numbing,
        "endpoint": chart.endpoint,
        "immediate_reactions": chart.immediate_reactions,
        "notes": chart.notes,
    }
    for a in chart.areas:
        initial[f"treat_{a.area}"] = True
        initial[f"depth_{a.area}"] = a.depth_mm
        initial[f"tip_{a.area}"] = a.tip or ""
        initial[f"passes_{a.area}"] = a.passes
    return initial


class FinaliseForm(forms.Form):
    confirm = forms.BooleanField(
        label="I confirm this record is complete and correct. It will be signed and locked.",
        error_messages={"required": "tick to confirm before finalising"},
    )
    precare_done = forms.BooleanField(label="Pre-care was done", required=False)
    # The draft's version as this page showed it: finalising refuses (409) if it has changed.
    version = forms.CharField(
        widget=forms.HiddenInput,
        max_length=64,
        error_messages={"required": "is missing: reload the page and finalise again"},
    )


class RecheckForm(forms.Form):
    """The chair-side "anything changed since the screening?" check."""

    QUESTIONS = (
        ("new_medicines", "New medicines (isotretinoin, blood thinners, antibiotics...)"),
        ("pregnancy", "Pregnant or breastfeeding"),
        ("cold_sore", "A cold sore or infection on the area"),
        ("sunburn", "Sunburn or a tan on the area"),
        ("recent_procedure", "A peel, laser, filler or other procedure since"),
    )

    note = forms.CharField(
        label="Note", required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for key, label in self.QUESTIONS:
            self.fields[key] = forms.BooleanField(label=label, required=False)

    @property
    def answers(self) -> dict[str, bool]:
        return {key: bool(self.cleaned_data.get(key)) for key, _ in self.QUESTIONS}

    @property
    def question_fields(self):
        return [self[key] for key, _ in self.QUESTIONS]


class AddendumForm(forms.Form):
    text = forms.CharField(
        label="Addendum",
        max_length=ADDENDUM_MAX_CHARS,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Added below the signed record with your name and the time; the record "
        "itself does not change.",
    )


def _ellipse(cx: float, cy: float, rx: float, ry: float) -> str:
    return f"M{cx - rx},{cy} a{rx},{ry} 0 1,0 {2 * rx},0 a{rx},{ry} 0 1,0 {-2 * rx},0 Z"


# The diagram's clickable shapes (SVG path data) for the bundled knowledge base's areas. An area a
# clinic adds in its own knowledge base has no shape: its row of inputs still works.
BODYMAP_SHAPES: dict[str, tuple[str, str]] = {
    "forehead": ("face", "M52,92 C50,48 80,30 110,30 C140,30 170,48 168,92 Z"),
    "periorbital": ("face", _ellipse(82, 112, 20, 11) + " " + _ellipse(138, 112, 20, 11)),
    "nose": ("face", "M110,104 L97,152 Q110,162 123,152 Z"),
    "cheeks": ("face", _ellipse(70, 148, 17, 20) + " " + _ellipse(150, 148, 17, 20)),
    "perioral": ("face", _ellipse(110, 178, 24, 12)),
    "chin": ("face", _ellipse(110, 201, 19, 8)),
    "jawline": (
        "face",
        "M42,152 Q48,198 90,214 L92,206 Q58,192 51,152 Z "
        "M178,152 Q172,198 130,214 L128,206 Q162,192 169,152 Z",
    ),
    "neck": ("face", "M86,216 L134,216 L140,252 L80,252 Z"),
    "decolletage": ("face", "M80,254 L140,254 Q190,260 206,294 L14,294 Q30,260 80,254 Z"),
    "upper_arms": (
        "body",
        "M27,58 L41,55 L41,122 L25,122 Z M99,55 L113,58 L115,122 L99,122 Z",
    ),
    "abdomen": ("body", "M45,112 L95,112 L97,166 L43,166 Z"),
    "thighs": ("body", "M44,174 L68,174 L66,244 L46,244 Z M72,174 L96,174 L94,244 L74,244 Z"),
    "back": ("body", "M162,56 L218,56 L214,150 L166,150 Z"),
    "buttocks": ("body", _ellipse(177, 170, 13, 17) + " " + _ellipse(203, 170, 13, 17)),
}


def bodymap(kb: KnowledgeBase, selected: set[str]) -> dict[str, list[dict]]:
    """The diagram's shapes by view ('face', 'body') for the areas the knowledge base knows."""
    views: dict[str, list[dict]] = {"face": [], "body": []}
    for key, area in kb.areas.items():
        if key in BODYMAP_SHAPES:
            view, d = BODYMAP_SHAPES[key]
            views[view].append({"id": key, "name": area.name, "d": d, "on": key in selected})
    return views
