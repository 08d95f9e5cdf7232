"""Stored core output made readable for pages and PDFs: names, values and numbered sources.

Presentation only: nothing here decides anything clinical.
"""

from __future__ import annotations

from datetime import date

# Labels for the plan's decisions ("what"), as a practitioner would say them.
WHAT = {
    "modality": "Treatment",
    "device": "Device",
    "depth_mm": "Needle depth (mm)",
    "tip": "Tip",
    "sessions": "Sessions",
    "interval_days": "Days between sessions",
    "maintenance_interval_days": "Maintenance every (days)",
    "session_minutes": "Session length (minutes)",
    "downtime_days": "Downtime (days)",
    "earliest_start": "Earliest start",
    "serum": "Serum",
}


class References:
    """Numbered sources for one page: each citation key gets a number the first time it is seen."""

    def __init__(self, kb):
        self.kb, self.keys = kb, {}

    def cite(self, key: str) -> dict:
        number = self.keys.setdefault(key, len(self.keys) + 1)
        return {"key": key, "number": number}

    def listing(self) -> list[dict]:
        out = []
        for key, number in self.keys.items():
            ref = self.kb.bibliography.get(key)
            out.append(
                {
                    "key": key,
                    "number": number,
                    "citation": ref.citation if ref else key,
                    "url": ref.url if ref else None,
                    "tag": ref.tag if ref else "",
                }
            )
        return out


def _value_text(value) -> str:
    if isinstance(value, dict) and set(value) == {"min", "max"}:
        return f"{value['min']}–{value['max']}"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return "—" if value is None else str(value)


def _finding_style(f: dict) -> dict:
    """Badge, border and words for a screening finding's severity."""
    until = date.fromisoformat(f["until"]) if f.get("until") else None
    if f["severity"] == "absolute":
        style = (
            ("defer", "defer", "Defer") if until else ("contraindicated", "stop", "Do not treat")
        )
    elif f["severity"] == "relative":
        style = ("caution", "caution", "Modify")
    else:
        style = ("", "warn", "Precaution")
    return {"css": style[0], "badge": style[1], "severity_label": style[2], "until_date": until}


def present(data, refs: References):
    """A copy of stored core output with names, readable values and numbered sources added."""
    kb = refs.kb
    if isinstance(data, list):
        return [present(item, refs) for item in data]
    if not isinstance(data, dict):
        return data
    out = {k: present(v, refs) for k, v in data.items()}
    if isinstance(data.get("citations"), list):
        out["sources"] = [refs.cite(key) for key in data["citations"]]
    if data.get("area") in kb.areas:
        out["area_name"] = kb.areas[data["area"]].name
    if data.get("concern") in kb.concerns:
        out["concern_name"] = kb.concerns[data["concern"]].name
    if data.get("modality") in kb.modalities:
        out["modality_name"] = kb.modalities[data["modality"]].name
    if isinstance(data.get("areas"), list):
        out["area_names"] = ", ".join(
            kb.areas[a].name if a in kb.areas else a for a in data["areas"]
        )
    if "rule" in data and "severity" in data:
        out.update(_finding_style(data))
    if "what" in data and ("value" in data or "from" in data):
        out["label"] = WHAT.get(data["what"], data["what"].replace("_", " ").capitalize())
        area, _, concern = data["what"].partition("/")
        if area in kb.areas and concern in kb.concerns:  # a concern the plan does not treat
            out["label"] = f"{kb.areas[area].name}, {kb.concerns[concern].name.lower()}"
        out["value_text"] = _value_text(data.get("value"))
        names = {"device": kb.devices, "modality": kb.modalities, "serum": kb.serums}
        table = names.get(data["what"], {})
        if isinstance(data.get("value"), str) and data["value"] in table:
            out["value_text"] = table[data["value"]].name
    return out
