"""`dermis forecast` and `dermis maintain`: the JSON contract, the report and the exit codes."""

import json

import pytest

from dermis.cli.forecast import maintenance_bounds
from dermis.cli.main import main

BASE = ["--modality", "microneedling", "--concern", "laxity", "--age", "45", "--draws", "200"]


def run(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_forecast_json_contract(capsys):
    code, out, _ = run(
        capsys, "forecast", *BASE, "--sessions", "0,28,56", "--horizon-days", "900", "--json"
    )
    assert code == 0
    data = json.loads(out)
    assert data["days"] == list(range(901))
    bands = data["improvement"]
    assert set(bands) >= {"p10", "p50", "p90"}
    assert all(len(bands[k]) == 901 for k in ("p10", "p50", "p90"))
    assert all(
        lo <= mid <= hi
        for lo, mid, hi in zip(bands["p10"], bands["p50"], bands["p90"], strict=True)
    )
    assert data["noticeable_threshold"] == 25
    # the JSON rounds to 0.01, so the peak may tie with its neighbours
    assert bands["p50"][data["peak_day"]] >= max(bands["p50"]) - 0.01
    until = data["noticeable_until_day"]  # (rounded to 0.01, the next day may show 25.0)
    assert bands["p50"][until] >= 25 > bands["p50"][until + 1] - 0.01


def test_forecast_is_reproducible_with_a_seed(capsys):
    args = [
        "forecast",
        *BASE,
        "--sessions",
        "0,28",
        "--horizon-days",
        "200",
        "--json",
        "--seed",
        "9",
    ]
    first = run(capsys, *args)[1]
    assert run(capsys, *args)[1] == first
    other = run(capsys, *args[:-1], "10")[1]
    assert json.loads(other)["improvement"]["p50"] != json.loads(first)["improvement"]["p50"]


def test_noticeable_until_is_null_when_never_noticeable(capsys):
    code, out, _ = run(
        capsys, "forecast", "--modality", "microdermabrasion", "--concern", "laxity", "--age", "70",
        "--tip", "fine", "--sessions", "0", "--horizon-days", "100", "--json", "--draws", "100",
    )  # fmt: skip
    assert code == 0
    assert json.loads(out)["noticeable_until_day"] is None


def test_forecast_report_shows_uncertainty_and_the_planning_sentence(capsys):
    code, out, _ = run(
        capsys, "forecast", *BASE, "--sessions", "0,28,56", "--smoker", "--sun", "high"
    )
    assert code == 0
    assert "p10" in out and "p90" in out
    assert "3 months after the last session" in out
    assert "noticeable: improvement of at least 25 %" in out
    assert "planning estimate, not a promise" in out


def test_observed_follow_ups_shift_the_forecast(capsys):
    args = ["forecast", *BASE, "--sessions", "0,28,56", "--horizon-days", "500", "--json"]
    prior = json.loads(run(capsys, *args)[1])
    post = json.loads(run(capsys, *args, "--observed", "90:80,150:80")[1])
    assert post["improvement"]["p50"][400] > prior["improvement"]["p50"][400] + 10
    assert post["effective_draws"] < post["draws"] * 4


@pytest.mark.parametrize("suffix", ["png", "svg"])
def test_plot_writes_a_file(capsys, tmp_path, suffix):
    path = tmp_path / f"forecast.{suffix}"
    code, _, _ = run(capsys, "forecast", *BASE, "--sessions", "0,28,56", "--plot", str(path))
    assert code == 0
    head = path.read_bytes()[:200]
    assert head.startswith(b"\x89PNG") if suffix == "png" else b"<svg" in path.read_bytes()[:2000]


def test_maintain_json(capsys):
    code, out, _ = run(capsys, "maintain", *BASE, "--sessions", "0,28,56", "--years", "8", "--json")
    assert code == 0
    data = json.loads(out)
    days = data["maintenance_days"]
    lo, hi = maintenance_bounds("microneedling", "laxity")
    gaps = [b - a for a, b in zip([56, *days], days, strict=False)]
    assert days and all(lo <= g <= hi for g in gaps)
    assert data["feasible"] is True and data["days_below_noticeable"] == 0
    strategies = {c["strategy"]: c for c in data["comparison"]}
    assert set(strategies) == {"fixed_6_months", "fixed_12_months"}
    assert strategies["fixed_6_months"]["sessions"] >= len(days)
    assert {"sessions", "days_below_noticeable", "interval_days"} <= set(
        strategies["fixed_12_months"]
    )


def test_maintain_report_and_quantile(capsys, tmp_path):
    code, out, _ = run(
        capsys, "maintain", *BASE, "--sessions", "0,28,56", "--years", "3", "--quantile", "0.4",
        "--plot", str(tmp_path / "plan.png"),
    )  # fmt: skip
    assert code == 0
    assert "planned maintenance" in out and "fixed 12 months" in out and "p40" in out
    assert (tmp_path / "plan.png").stat().st_size > 1000


def test_maintenance_bounds_per_modality():
    assert maintenance_bounds("microneedling", "acne_scars_rolling") == (180, 365)
    assert maintenance_bounds("microdermabrasion", "uneven_texture") == (28, 120)


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["--depth-mm", "-1"], "--depth-mm"),
        (["--depth-mm", "3.0"], "--depth-mm"),
        (["--device", "home_roller", "--depth-mm", "1.0"], "--depth-mm"),
        (["--sessions", "28,0"], "--sessions"),
        (["--sessions", "0,x"], "--sessions"),
        (["--sessions=-14,0"], "--sessions"),
        (["--horizon-days", "0"], "--horizon-days"),
        (["--horizon-days", "-5"], "--horizon-days"),
        (["--concern", "wrinkles"], "--concern"),
        (["--fitzpatrick", "IX"], "--fitzpatrick"),
        (["--draws", "3"], "--draws"),
        (["--observed", "90-50"], "--observed"),
        (["--plot", "out.pdf"], "--plot"),
    ],
)
def test_bad_input_names_the_option_and_exits_2(capsys, args, option):
    full = ["forecast", *BASE, "--sessions", "0,28,56", *args]
    code, out, err = run(capsys, *full)
    assert code == 2
    assert out == ""
    assert err.startswith(f"dermis: error: {option}:")
    assert len(err.strip().splitlines()) == 1


def test_depth_with_microdermabrasion_is_rejected(capsys):
    code, _, err = run(
        capsys, "forecast", "--modality", "microdermabrasion", "--depth-mm", "0.5",
        "--concern", "uneven_texture", "--age", "40", "--sessions", "0",
    )  # fmt: skip
    assert code == 2
    assert "--depth-mm" in err and "microdermabrasion" in err


@pytest.mark.parametrize(
    "args",
    [
        ["--years", "0"],
        ["--years", "5", "--quantile", "1.5"],
    ],
)
def test_maintain_bad_goal_exits_2(capsys, args):
    code, _, err = run(capsys, "maintain", *BASE, "--sessions", "0,28,56", *args)
    assert code == 2
    assert err.startswith("dermis: error: --")


def test_argparse_errors_exit_2(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["forecast", *BASE])  # --sessions missing
    assert exc.value.code == 2
    with pytest.raises(SystemExit) as exc:
        main(["forecast", *BASE, "--sessions", "0", "--sun", "always"])
    assert exc.value.code == 2


def test_forecast_names_its_parameter_set_and_notes(capsys):
    code, out, _ = run(
        capsys, "forecast", "--modality", "microdermabrasion", "--device", "crystal",
        "--concern", "uneven_texture", "--age", "40", "--sessions", "0,14,28",
        "--observed", "31:40", "--json", "--draws", "100",
    )  # fmt: skip
    assert code == 0
    data = json.loads(out)
    assert data["parameter_set"] == "packaged-2026.2"
    assert "packaged-2026.2" in data["statement"]
    notes = " ".join(data["notes"])
    assert "swelling" in notes and "epidermal and temporary" in notes
    assert data["effective_draws"] <= data["draws"]


def test_maintain_a_non_responder_is_told_to_reassess(capsys):
    code, out, _ = run(
        capsys, "maintain", "--modality", "microdermabrasion", "--concern", "laxity",
        "--age", "60", "--sessions", "0,28,56", "--years", "10", "--draws", "200",
    )  # fmt: skip
    assert code == 0
    assert "reassess the plan" in out and "planned maintenance" not in out
