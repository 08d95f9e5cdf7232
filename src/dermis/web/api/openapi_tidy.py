"""Tidy the OpenAPI document django-ninja and pydantic generate, so that linters and client
generators read it without warnings: the document changes, what the API accepts does not.

- `{"allOf": [{"$ref": X}], "description": ...}` (pydantic's way to describe a reference) becomes
  `{"$ref": X, "description": ...}`, which OpenAPI 3.1 allows.
- A `minimum` that an `exclusiveMinimum` already implies is dropped.
- Schemas nothing refers to (ninja keeps its query-parameter models) are removed.
"""

from __future__ import annotations

import json
import re

REF = re.compile(r'"\$ref": "#/components/schemas/([^"]+)"')


def _walk(node) -> None:
    if isinstance(node, list):
        for item in node:
            _walk(item)
        return
    if not isinstance(node, dict):
        return
    all_of = node.get("allOf")
    if isinstance(all_of, list) and len(all_of) == 1 and set(all_of[0]) == {"$ref"}:
        node["$ref"] = node.pop("allOf")[0]["$ref"]
    low, exclusive = node.get("minimum"), node.get("exclusiveMinimum")
    if isinstance(low, int | float) and isinstance(exclusive, int | float) and exclusive >= low:
        del node["minimum"]
    high, exclusive = node.get("maximum"), node.get("exclusiveMaximum")
    if isinstance(high, int | float) and isinstance(exclusive, int | float) and exclusive <= high:
        del node["maximum"]
    for value in node.values():
        _walk(value)


def _refs(node) -> set[str]:
    return set(REF.findall(json.dumps(node)))


def _drop_unused(schema: dict) -> None:
    components = schema.get("components", {}).get("schemas", {})
    used = _refs({k: v for k, v in schema.items() if k != "components"})
    todo = set(used)
    while todo:  # follow references between components
        found = set().union(*(_refs(components[n]) for n in todo if n in components))
        todo = found - used
        used |= found
    for name in set(components) - used:
        del components[name]


def tidy(schema: dict) -> dict:
    _walk(schema)
    _drop_unused(schema)
    return schema
