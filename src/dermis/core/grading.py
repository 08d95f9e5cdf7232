"""A grade on a concern's named scale (knowledge base `scales`): the one check of its range.

Used for the severity of a concern at a consultation and for every follow-up grade, so a grade
means the same wherever it is entered.
"""

from __future__ import annotations

from dermis.core.errors import InputError
from dermis.core.knowledge.schema import KnowledgeBase


def _fmt(x: float) -> str:
    return f"{x:g}"


def check_grade(kb: KnowledgeBase, concern: str, value: float, field: str = "grade") -> None:
    """InputError(field) unless `value` is on `concern`'s scale (InputError('concern') if the
    knowledge base does not know the concern)."""
    known = kb.concerns.get(concern)
    if known is None:
        raise InputError(
            "concern", f"unknown concern '{concern}' (known: {', '.join(kb.concerns)})"
        )
    scale = kb.scales[known.scale]
    if not scale.min <= value <= scale.max:
        raise InputError(
            field,
            f"{_fmt(value)} is outside the {scale.name} ({_fmt(scale.min)}-{_fmt(scale.max)}) "
            f"used for {known.name.lower()}",
        )
