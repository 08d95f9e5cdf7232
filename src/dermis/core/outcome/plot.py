"""A picture of a forecast: the p10-p90 band, the median, the sessions and the noticeable line."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from dermis.core.errors import InputError
from dermis.core.outcome.forecast import PATIENT_SENTENCE, Forecast

MONTH = 365.25 / 12


def band(x, low, high, width: float, height: float) -> tuple[np.ndarray, np.ndarray]:
    """The p10-p90 band as one outline (along the top, back along the bottom), each edge with
    the points a reader could not see left out (`edge`): matplotlib simplifies every line it
    draws, but never a filled shape, and the band's thousand points a side were half of the
    chart's SVG. `width` and `height` are the figure's in pixels: the edges are simplified as if
    the axes filled the figure, finer than they are drawn."""
    x, low, high = (np.asarray(v, dtype=float) for v in (x, low, high))
    span_y = max(float(np.ptp(np.r_[low, high, 0.0])), 1e-9)
    scale = (width / max(float(np.ptp(x)), 1e-9), height / span_y)
    top, bottom = edge(x, high, scale), edge(x, low, scale)
    outline = np.vstack([top, bottom[::-1]])
    return outline[:, 0], outline[:, 1]


def edge(x, y, scale: tuple[float, float]) -> np.ndarray:
    """The line through (x, y) as (n, 2) points, simplified as matplotlib simplifies the lines it
    draws (to a ninth of a pixel, `path.simplify_threshold`), `scale` being pixels per unit of x
    and of y. It starts and ends where the line does."""
    from matplotlib.path import Path as Curve

    factor = np.asarray(scale, dtype=float)
    points = np.column_stack([np.asarray(x, dtype=float), np.asarray(y, dtype=float)])
    cleaned = Curve(points * factor).cleaned(simplify=True)
    return cleaned.vertices[cleaned.codes != Curve.STOP] / factor


def plot_forecast(
    forecast: Forecast,
    path: str | Path,
    title: str = "",
    maintenance: Sequence[int] = (),
) -> Path:
    """Write the forecast as PNG or SVG (by the file's suffix)."""
    out = Path(path)
    if out.suffix.lower() not in (".png", ".svg"):
        raise InputError("--plot", f"must end in .png or .svg, got {out.name!r}")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    months = forecast.days / MONTH
    fig, ax = plt.subplots(figsize=(9, 4.8), dpi=110)
    band_x, band_y = band(months, forecast.p10, forecast.p90, fig.bbox.width, fig.bbox.height)
    ax.fill(band_x, band_y, color="#9ecae1", alpha=0.6, lw=0,
            label="80 % of patients (p10-p90)")  # fmt: skip
    ax.plot(months, forecast.p50, color="#08519c", lw=2, label="typical patient (median)")
    ax.axhline(forecast.noticeable_threshold, color="#d94801", ls="--", lw=1.2,
               label=f"noticeable ({forecast.noticeable_threshold:g} %)")  # fmt: skip
    ax.axhline(0, color="0.4", lw=0.8)
    booked = set(maintenance)
    for day in forecast.sessions:
        is_maint = day in booked
        ax.axvline(day / MONTH, color="#238b45" if is_maint else "0.3", lw=0.8,
                   ls=":" if is_maint else "-", alpha=0.8,
                   label="maintenance" if is_maint else "session")  # fmt: skip
    ax.set_xlabel("months from the first session")
    ax.set_ylabel("improvement (% of pre-treatment severity)")
    ax.set_xlim(0, months[-1])
    ax.set_title(title or "Forecast of improvement")
    handles, labels = ax.get_legend_handles_labels()
    unique = dict(zip(labels, handles, strict=False))
    ax.legend(unique.values(), unique.keys(), loc="upper right", fontsize=8)
    fig.text(0.01, 0.01, f"{PATIENT_SENTENCE}\nOutcome model parameters: {forecast.parameter_set}",
             fontsize=7, color="0.3")  # fmt: skip
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    try:
        fig.savefig(out)
    except OSError as exc:
        raise InputError("--plot", f"cannot write {out}: {exc.strerror or exc}") from None
    finally:
        plt.close(fig)
    return out
