"""Read a patient file (JSON or YAML) into validated core inputs."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from pydantic import ValidationError

from dermis.core.errors import InputError
from dermis.core.patient import PatientFile, input_error


class _TextDates(yaml.SafeLoader):
    """YAML that leaves dates as text, so the patient model parses them and names the field
    (PyYAML itself raises a bare ValueError on an impossible date such as 2026-02-30)."""


_TextDates.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _load_yaml(text: str) -> object:
    return yaml.load(text, _TextDates)  # a SafeLoader subclass: no arbitrary objects


def read_patient_file(path: str) -> PatientFile:
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError("FILE", f"no such file: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError("FILE", f"cannot read {path}: {exc}") from None
    try:
        parse = json.loads if file.suffix.lower() == ".json" else _load_yaml
        data = parse(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise InputError("FILE", f"{path} is not valid JSON/YAML: {exc}".splitlines()[0]) from None
    if not isinstance(data, dict):
        raise InputError("FILE", f"{path} must hold a mapping with 'patient' and 'intake'")
    try:
        return PatientFile.model_validate(data)
    except ValidationError as exc:
        raise input_error(exc) from None
