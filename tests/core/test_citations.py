"""Every citation key used in the knowledge data, the outcome model and the core resolves."""

import re
from pathlib import Path

import yaml

from dermis.core.outcome.parameters import KNOWN_CITATIONS
from dermis.core.outcome.targets import TARGETS

CORE = Path(__file__).parents[2] / "src" / "dermis" / "core"
# A key in code: a quoted author-year key or one of the labelled non-paper keys.
KEY_IN_CODE = re.compile(
    r"[\"']([a-z]+\d{4}|dermis_default|dermis_lexicon|md_practice|reviews_exclusions|"
    r"aftercare_consensus|healing_phases|seeds|seeds_permanence|collagen_decline_consensus)[\"']"
)


def _yaml_keys(node, parent=""):
    """Values under `sources`, `citation`, `citations` anywhere in a YAML document."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("sources", "citations") and isinstance(value, list):
                yield from ((f"{parent}.{key}", v) for v in value)
            elif key == "citation" and isinstance(value, str) and parent != "bibliography":
                if re.fullmatch(r"[a-z0-9_]+", value):
                    yield f"{parent}.{key}", value
            else:
                yield from _yaml_keys(value, f"{parent}.{key}" if parent else str(key))
    elif isinstance(node, list):
        for i, item in enumerate(node):
            yield from _yaml_keys(item, f"{parent}[{i}]")


def test_every_citation_key_in_data_and_code_resolves_in_the_bibliography(kb):
    used: list[tuple[str, str]] = []
    for path in sorted(CORE.rglob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        data.pop("bibliography", None)
        used += [(f"{path.name}:{where}", key) for where, key in _yaml_keys(data)]
    for path in sorted(CORE.rglob("*.py")):
        used += [(path.name, m) for m in KEY_IN_CODE.findall(path.read_text(encoding="utf-8"))]
    used += [("outcome KNOWN_CITATIONS", key) for key in KNOWN_CITATIONS]
    used += [(f"outcome target {t.id}", t.citation) for t in TARGETS]
    assert len(used) > 300
    missing = sorted({f"{where}: {key}" for where, key in used if key not in kb.bibliography})
    assert not missing, missing


def test_the_outcome_models_keys_are_in_the_bibliography(kb):
    assert {"varani2006", "seeds_permanence", "collagen_decline_consensus"} <= set(kb.bibliography)
