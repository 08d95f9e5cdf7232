"""Read a patient file (JSON or YAML) into validated core inputs."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from pydantic import ValidationError

from dermis.core.errors import InputError
from dermis.core.patient import PatientFile, input_error


def read_patient_file(path: str) -> PatientFile:
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError("FILE", f"no such file: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError("FILE", f"cannot read {path}: {exc}") from None
    try:
        data = json.loads(text) if file.suffix.lower() == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise InputError("FILE", f"{path} is not valid JSON/YAML: {exc}".splitlines()[0]) from None
    if not isinstance(data, dict):
        raise InputError("FILE", f"{path} must hold a mapping with 'patient' and 'intake'")
    try:
        return PatientFile.model_validate(data)
    except ValidationError as exc:
        raise input_error(exc) from None
