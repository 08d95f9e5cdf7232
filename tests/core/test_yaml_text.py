"""YAML read with libyaml's parser (`dermis.core.yaml_text`): the same data as PyYAML's own parser
gives, for every file the project ships and for any plain data, and still only plain data."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from dermis.core import yaml_text
from dermis.core.knowledge.loader import DATA_DIR
from dermis.core.outcome.parameters import DEFAULT_PATH

CHECKOUT = Path(__file__).resolve().parents[2]
SHIPPED = sorted({*DATA_DIR.glob("*.yaml"), DEFAULT_PATH, *(CHECKOUT / "examples").glob("*.yaml")})


def test_libyaml_is_used_where_pyyaml_has_it():
    assert yaml.__with_libyaml__  # the pinned PyYAML's wheels have it
    assert yaml_text.SafeLoader is yaml.CSafeLoader


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_every_shipped_file_reads_as_pyyamls_own_parser_reads_it(path):
    text = path.read_text(encoding="utf-8")
    assert yaml_text.safe_load(text) == yaml.load(text, Loader=yaml.SafeLoader)


scalars = (
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text() | st.dates()
)
plain = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@given(plain)
def test_any_plain_data_reads_back_the_same_through_either_parser(value):
    for text in (yaml.safe_dump(value), yaml.safe_dump(value, default_flow_style=True)):
        assert yaml_text.safe_load(text) == yaml.load(text, Loader=yaml.SafeLoader) == value


def test_objects_are_refused_and_bad_yaml_names_its_line():
    with pytest.raises(yaml.constructor.ConstructorError):
        yaml_text.safe_load("!!python/object/apply:os.getcwd []")
    with pytest.raises(yaml.YAMLError) as err:
        yaml_text.safe_load("a:\n  b: [unclosed\n")
    assert err.value.problem_mark.line >= 1
