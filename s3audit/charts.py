"""Charts of access sources (matplotlib ``Figure`` objects; no pyplot global state).

Each function returns a :class:`matplotlib.figure.Figure`; Jupyter displays it inline, and
``fig.savefig(path)`` writes it. Figures are built with the object-oriented API, so they work
under any backend (``Agg`` in tests and CI) and never leak between calls.

Examples
--------
>>> import pandas as pd
>>> df = pd.DataFrame({"source": ["console", "external"],
...                    "eventTime": pd.to_datetime(["2026-01-01T10:00Z", "2026-01-01T12:00Z"])})
>>> fig = events_over_time(df)
>>> fig.axes[0].get_title()
'Events per access source over time'
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from s3audit.sources import SOURCES, classify, column
from s3audit.tables import BYTES_OUT, crosstab

# one stable colour per source, so every chart of a report uses the same colours
_PALETTE = ("#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1",
            "#ff9da7", "#9c755f", "#bab0ac", "#1f77b4", "#d62728", "#2ca02c", "#9467bd",
            "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf", "#393b79")
SOURCE_COLOURS: dict[str, str] = dict(zip(SOURCES, _PALETTE))


def _classified(events: pd.DataFrame, options: dict[str, Any]) -> pd.DataFrame:
    return events if "source" in events.columns else classify(events, **options)


def _auto_freq(times: pd.Series) -> str:
    if times.empty:
        return "1h"
    span = times.max() - times.min()
    if span <= pd.Timedelta(hours=6):
        return "5min"
    if span <= pd.Timedelta(days=3):
        return "1h"
    if span <= pd.Timedelta(days=60):
        return "6h"
    return "1D"


def events_over_time(events: pd.DataFrame, freq: str | None = None, *,
                     figsize: tuple[float, float] = (11, 4.5), **classify_options: Any) -> Figure:
    """Stacked events per source per time bin (``freq`` chosen from the span when None).

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"source": ["ec2"], "eventTime": pd.to_datetime(["2026-01-01T00:00Z"])})
    >>> len(events_over_time(df, "1h").axes)
    1
    """
    events = _classified(events, classify_options)
    fig = Figure(figsize=figsize, layout="constrained")
    ax = fig.add_subplot()
    ax.set_title("Events per access source over time")
    if "eventTime" not in events.columns or events.empty:
        ax.text(0.5, 0.5, "no events", ha="center", va="center", transform=ax.transAxes)
        return fig
    times = pd.to_datetime(events["eventTime"], utc=True)
    freq = freq or _auto_freq(times)
    src = column(events, "source")
    bins = times.dt.floor(freq)
    table = pd.crosstab(bins.to_numpy(), pd.Categorical.from_codes(src.codes, categories=src.cats),
                        dropna=False)
    table = table.loc[:, table.sum() > 0]
    full = pd.date_range(table.index.min(), table.index.max(), freq=freq)
    table = table.reindex(full, fill_value=0)
    colours = [SOURCE_COLOURS.get(str(c), "#999999") for c in table.columns]
    ax.stackplot(table.index, table.to_numpy().T, labels=[str(c) for c in table.columns],
                 colors=colours, step="post")
    ax.set_ylabel(f"events per {freq}")
    ax.set_xlabel("eventTime (UTC)")
    ax.margins(x=0)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small", frameon=False)
    return fig


def bytes_per_source(events: pd.DataFrame, *, figsize: tuple[float, float] = (8, 4.5),
                     **classify_options: Any) -> Figure:
    """Horizontal bars: bytes transferred out per source (log scale when spans are wide).

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"source": ["ec2", "external"],
    ...                    "additionalEventData.bytesTransferredOut": [10.0, 2000.0]})
    >>> bytes_per_source(df).axes[0].get_xlabel()
    'bytes out'
    """
    events = _classified(events, classify_options)
    src = column(events, "source")
    if BYTES_OUT in events.columns:
        values = pd.to_numeric(events[BYTES_OUT], errors="coerce").fillna(0).to_numpy(np.float64)
    else:
        values = np.zeros(len(events))
    keep = src.codes >= 0
    totals = np.bincount(src.codes[keep], weights=values[keep], minlength=len(src.cats))
    counts = np.bincount(src.codes[keep], minlength=len(src.cats))
    order = [i for i in np.argsort(totals, kind="stable") if counts[i] > 0]
    fig = Figure(figsize=figsize, layout="constrained")
    ax = fig.add_subplot()
    ax.set_title("Bytes out per access source")
    names = [str(src.cats[i]) for i in order]
    ax.barh(names, [totals[i] for i in order],
            color=[SOURCE_COLOURS.get(n, "#999999") for n in names])
    positive = [totals[i] for i in order if totals[i] > 0]
    if positive and max(positive) / max(min(positive), 1.0) > 1000:
        ax.set_xscale("log")
    ax.set_xlabel("bytes out")
    for y, i in enumerate(order):
        ax.annotate(_human_bytes(totals[i]), (totals[i], y), xytext=(3, 0),
                    textcoords="offset points", va="center", fontsize="small")
    return fig


def source_endpoint_heatmap(events: pd.DataFrame, *, top: int = 15,
                            figsize: tuple[float, float] | None = None,
                            **classify_options: Any) -> Figure:
    """Heatmap of events per source × ``vpcEndpointId`` (``(none)`` = no endpoint).

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"source": ["console", "ec2"], "vpcEndpointId": ["vpce-f40dc59d", None]})
    >>> source_endpoint_heatmap(df).axes[0].get_xlabel()
    'vpcEndpointId'
    """
    events = _classified(events, classify_options)
    table = crosstab(events, "source", "vpcEndpointId", top=top)
    rows, cols = table.shape
    fig = Figure(figsize=figsize or (max(6.0, 1.1 * cols + 3), max(3.0, 0.45 * rows + 1.5)),
                 layout="constrained")
    ax = fig.add_subplot()
    ax.set_title("Events per access source × vpcEndpointId")
    data = table.to_numpy(dtype=float)
    shown = np.log10(data + 1.0)
    image = ax.imshow(shown if data.size else np.zeros((1, 1)), aspect="auto", cmap="viridis")
    ax.set_xticks(range(cols), [str(c) for c in table.columns], rotation=35, ha="right",
                  fontsize="small")
    ax.set_yticks(range(rows), [str(r) for r in table.index], fontsize="small")
    ax.set_xlabel("vpcEndpointId")
    ax.set_ylabel("source")
    peak = shown.max() if shown.size else 0
    for r in range(rows):
        for c in range(cols):
            if data[r, c]:
                ax.text(c, r, f"{int(data[r, c]):,}", ha="center", va="center", fontsize="x-small",
                        color="black" if shown[r, c] > 0.6 * peak else "white")
    cbar = fig.colorbar(image, ax=ax)
    cbar.set_label("log10(events + 1)")
    return fig


def coverage_chart(events: pd.DataFrame, freq: str = "1D", *,
                   figsize: tuple[float, float] = (11, 3.5)) -> Figure:
    """Events per ``freq`` bin over the whole window, so gaps in what was fetched show up.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"eventTime": pd.to_datetime(["2026-01-01T10:00Z", "2026-01-03T10:00Z"])})
    >>> [float(p.get_height()) for p in coverage_chart(df).axes[0].patches]
    [1.0, 0.0, 1.0]
    """
    fig = Figure(figsize=figsize, layout="constrained")
    ax = fig.add_subplot()
    ax.set_title(f"Events fetched per {freq}")
    if "eventTime" not in events.columns or events.empty:
        ax.text(0.5, 0.5, "no events", ha="center", va="center", transform=ax.transAxes)
        return fig
    times = pd.to_datetime(events["eventTime"], utc=True).dt.floor(freq)
    counts = times.value_counts().sort_index()
    full = pd.date_range(counts.index.min(), counts.index.max(), freq=freq)
    counts = counts.reindex(full, fill_value=0)
    width = pd.Timedelta(freq) * 0.9
    ax.bar(counts.index, counts.to_numpy(dtype=float), width=width, align="edge",
           color="#4e79a7")
    ax.set_ylabel("events")
    ax.set_xlabel("eventTime (UTC)")
    return fig


def _human_bytes(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(n) < 1024 or unit == "TB":
            return f"{n:,.0f} {unit}" if unit == "B" else f"{n:,.1f} {unit}"
        n /= 1024
    return f"{n:,.1f} TB"  # pragma: no cover
