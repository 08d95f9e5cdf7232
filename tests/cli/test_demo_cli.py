"""`dermis demo` runs every example through the core."""

from pathlib import Path

from dermis.cli.main import main

EXAMPLES = Path(__file__).parents[2] / "examples"


def test_demo_walks_every_example(capsys):
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    for example in EXAMPLES.iterdir():
        assert f"== {example.name}" in out
    assert "plan       not_safe" in out
    assert "defer until 2027-03-20" in out
