"""`dermis forecast` and `dermis maintain`: the outcome model from the command line."""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence

from dermis.core.errors import InputError
from dermis.core.outcome import (
    CONCERNS,
    MODALITIES,
    PATIENT_SENTENCE,
    FollowUp,
    Forecast,
    OutcomeModel,
    load_parameters,
    make_patient,
    make_treatment,
)
from dermis.core.outcome.inputs import DEVICES, validate_horizon, validate_sessions
from dermis.core.outcome.maintenance import MaintenancePlan, plan_maintenance

MONTH = 365.25 / 12
YEAR = 365.25
LANDMARKS = (
    ("1 month after", MONTH),
    ("3 months after", 3 * MONTH),
    ("6 months after", 6 * MONTH),
    ("1 year after", YEAR),
    ("2 years after", 2 * YEAR),
    ("3 years after", 3 * YEAR),
)


def maintenance_bounds(modality: str, concern: str) -> tuple[int, int]:
    """Minimum and maximum days between maintenance sessions, from the knowledge base's protocol."""
    from dermis.core.knowledge import load_knowledge
    from dermis.core.planning import protocol_for

    interval = protocol_for(load_knowledge(), modality, concern).maintenance_interval_days
    return interval.min, interval.max


def register(subparsers: argparse._SubParsersAction) -> None:
    fc = subparsers.add_parser(
        "forecast",
        help="forecast how a result develops and fades (p10/p50/p90)",
        description="Forecast the improvement of a treated concern over time, with uncertainty. "
        + PATIENT_SENTENCE,
    )
    _patient_options(fc)
    fc.add_argument(
        "--horizon-days",
        type=int,
        help="days to forecast (default: 3 years after the last session)",
    )
    fc.add_argument(
        "--observed",
        metavar="DAY:PCT,...",
        help="follow-up grades (day:improvement %%) to condition the forecast on",
    )
    fc.add_argument("--plot", metavar="FILE", help="draw the forecast to a .png or .svg file")
    fc.set_defaults(func=run_forecast)

    mt = subparsers.add_parser(
        "maintain",
        help="plan maintenance sessions after a series",
        description="Plan the fewest maintenance sessions that keep a quantile of the forecast "
        "above noticeable for N years, and compare with fixed 6- and 12-month recalls.",
    )
    _patient_options(mt)
    mt.add_argument(
        "--years", type=float, required=True, help="how long to keep the result noticeable"
    )
    mt.add_argument(
        "--quantile",
        type=float,
        default=0.5,
        help="the quantile to keep above noticeable (0.5: the typical patient)",
    )
    mt.add_argument("--plot", metavar="FILE", help="draw the plan to a .png or .svg file")
    mt.set_defaults(func=run_maintain)


def _patient_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--modality", required=True, choices=MODALITIES)
    p.add_argument("--device", choices=sorted(DEVICES), help="default: automated_pen / diamond_tip")
    p.add_argument("--depth-mm", type=float, help="needle depth (microneedling; default 1.0)")
    p.add_argument(
        "--tip", choices=("coarse", "medium", "fine"), help="diamond tip (default medium)"
    )
    p.add_argument("--concern", required=True, help=f"one of: {', '.join(CONCERNS)}")
    p.add_argument("--age", type=int, required=True)
    p.add_argument("--sex", default="f", choices=("f", "m", "x"))
    p.add_argument("--fitzpatrick", default="III", help="phototype I..VI (default III)")
    p.add_argument("--sun", default="moderate", choices=("low", "moderate", "high"))
    p.add_argument("--smoker", action="store_true")
    p.add_argument("--sessions", required=True, metavar="D1,D2,...",
                   help="session days counted from day 0, e.g. 0,28,56")  # fmt: skip
    p.add_argument("--draws", type=int, default=1000, help="Monte Carlo draws (default 1000)")
    p.add_argument("--seed", type=int, default=0, help="random seed (same seed, same forecast)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument(
        "--parameters",
        metavar="FILE",
        help="an outcome parameter set (YAML or JSON, e.g. a clinic's refit); default: packaged",
    )


def _parse_days(text: str, option: str) -> tuple[int, ...]:
    try:
        days = [int(part) for part in text.replace(" ", "").split(",") if part != ""]
    except ValueError:
        raise InputError(option, f"must be whole days separated by commas, got {text!r}") from None
    return validate_sessions(days, option)


def _parse_observed(text: str | None) -> tuple[FollowUp, ...]:
    if not text:
        return ()
    out = []
    for part in text.split(","):
        try:
            day, pct = part.split(":")
            out.append(FollowUp.measured(int(day), float(pct)))
        except ValueError:
            raise InputError(
                "--observed", f"use DAY:PERCENT pairs, e.g. 90:45, got {part!r}"
            ) from None
    return tuple(out)


def _fit(
    args: argparse.Namespace, follow_ups: Sequence[FollowUp] = ()
) -> tuple[OutcomeModel, tuple[int, ...]]:
    sessions = _parse_days(args.sessions, "--sessions")
    patient = make_patient(args.age, args.sex, args.fitzpatrick, args.sun, args.smoker)
    treatment = make_treatment(args.modality, args.concern, args.device, args.depth_mm, args.tip)
    params = load_parameters(args.parameters) if args.parameters else None
    model = OutcomeModel(params, n_draws=args.draws, seed=args.seed).fit(
        patient, treatment, sessions, follow_ups
    )
    return model, sessions


def _title(model: OutcomeModel) -> str:
    t, p = model.treatment_, model.patient_
    how = (
        f"{t.device} {t.depth_mm:g} mm"
        if t.depth_mm is not None
        else f"{t.device}" + (f" ({t.tip} tip)" if t.tip else "")
    )
    who = f"age {p.age}, {p.sex}, type {p.fitzpatrick.value}"
    return f"{t.modality} ({how}) for {t.concern.replace('_', ' ')}; {who}"


def run_forecast(args: argparse.Namespace) -> int:
    follow_ups = _parse_observed(args.observed)
    model, sessions = _fit(args, follow_ups)
    horizon = args.horizon_days if args.horizon_days is not None else sessions[-1] + round(3 * YEAR)
    validate_horizon(horizon)
    forecast = model.predict(horizon)
    if args.plot:
        from dermis.core.outcome.plot import plot_forecast

        plot_forecast(forecast, args.plot, _title(model))
    if args.json:
        print(json.dumps(forecast.to_dict()))
    else:
        print(_forecast_report(model, forecast))
    return 0


def _forecast_report(model: OutcomeModel, f: Forecast) -> str:
    last = f.sessions[-1]
    lines = [
        _title(model),
        f"sessions on days {', '.join(map(str, f.sessions))}; {f.n_draws} draws"
        + (
            f" (conditioned on follow-ups, {f.effective_draws:.0f} effective)"
            if model.follow_ups_
            else ""
        )
        + f"; parameter set {f.parameter_set}",
        "",
        "improvement, % of pre-treatment severity:   low (p10)  typical (p50)  high (p90)",
    ]
    marks = [("peak (typical)", f.peak_day)]
    for label, offset in LANDMARKS:
        marks.append((f"{label} the last session", last + round(offset)))
    for label, day in marks:
        if day <= f.days[-1]:
            lo, mid, hi = f.at(day)
            lines.append(f"  {label:<38} day {day:>5}  {lo:>7.0f} %  {mid:>9.0f} %  {hi:>9.0f} %")
    until = f.noticeable_until_day
    lines += [
        "",
        f"noticeable: improvement of at least {f.noticeable_threshold:g} %",
        "typical patient noticeable until: "
        + (
            f"day {until} ({(until - last) / MONTH:.0f} months after the last session)"
            if until is not None
            else "never"
        ),
        *(["", *f.notes] if f.notes else []),
        "",
        f.statement,
    ]
    return "\n".join(lines)


def run_maintain(args: argparse.Namespace) -> int:
    model, series = _fit(args)
    lo, hi = maintenance_bounds(model.treatment_.modality, model.treatment_.concern)
    plan = plan_maintenance(
        model, series, args.years, args.quantile, min_interval_days=lo, max_interval_days=hi
    )
    if args.plot:
        from dermis.core.outcome.plot import plot_forecast

        forecast = model.predict(plan.goal_end_day, series + plan.maintenance_days)
        plot_forecast(forecast, args.plot, _title(model), plan.maintenance_days)
    if args.json:
        print(json.dumps(plan.to_dict()))
    else:
        print(_plan_report(model, plan))
    return 0


def _plan_report(model: OutcomeModel, plan: MaintenancePlan) -> str:
    q = f"p{plan.quantile * 100:g}"
    if plan.recommendation == "reassess":
        return "\n".join(
            [_title(model), f"series on days {', '.join(map(str, plan.series))}", "",
             "recommendation: reassess the plan (no maintenance booked)", *plan.notes, "",
             f"{PATIENT_SENTENCE} (Outcome model parameters: {plan.parameter_set}.)"]
        )  # fmt: skip
    lines = [
        _title(model),
        f"series on days {', '.join(map(str, plan.series))}",
        f"goal: keep the {q} improvement at or above {plan.noticeable_threshold:g} % "
        f"from day {plan.goal_start_day} to day {plan.goal_end_day} ({plan.years:g} years)",
        f"maintenance interval allowed: {plan.min_interval_days}-{plan.max_interval_days} days",
        "",
        f"planned maintenance: {len(plan.maintenance_days)} sessions on days "
        + (", ".join(map(str, plan.maintenance_days)) or "(none needed)"),
        "  goal met"
        if plan.feasible
        else f"  goal not reachable within the intervals: {plan.days_below} days below noticeable",
        "",
        "compared with fixed recalls:        sessions   days below noticeable",
        f"  {'planned':<32} {len(plan.maintenance_days):>8}   {plan.days_below:>8}",
    ]
    for c in plan.comparisons:
        lines.append(f"  {c.strategy.replace('_', ' '):<32} {c.sessions:>8}   {c.days_below:>8}")
    if plan.notes:
        lines += ["", *plan.notes]
    lines += ["", f"{PATIENT_SENTENCE} (Outcome model parameters: {plan.parameter_set}.)"]
    return "\n".join(lines)
