"""The filter designer: an ipywidgets view over :class:`s3audit.design.FilterDesign`.

The view holds no logic of its own. Every control calls one model method
(``exclude_source``/``remove`` for a source checkbox, ``set_values`` for the address, endpoint,
user-agent and principal inputs); the model notifies the view, which re-renders everything from
the model in one place (:meth:`FilterDesigner.refresh`): the pattern text with the engine's lint
warnings, the alert count, a table of the alerting events, what each exclusion removes, the
discrepancies between pattern and intent, and the backtest plot (a PNG in an ``Image`` widget, so
it needs no plotting backend in the kernel and shows the same in JupyterLab and Voila).

Controls are reachable through :attr:`FilterDesigner.controls` (for tests and notebooks), and
carry CSS classes (``s3audit-source-<label>``, ``s3audit-pattern``, ``s3audit-alert-count``) so
a browser test can find them.

Examples
--------
>>> import pandas as pd
>>> from s3audit.design import FilterDesign
>>> ev = pd.DataFrame({"eventName": ["GetObject", "GetObject"], "source": ["athena", "external"],
...                    "sourceIPAddress": ["athena.amazonaws.com", "198.51.100.7"],
...                    "eventTime": pd.to_datetime(["2024-01-01T00:00Z", "2024-01-01T00:09Z"])})
>>> ev["raw"] = ev.drop(columns=["source", "eventTime"]).apply(lambda r: r.to_json(), axis=1)
>>> view = FilterDesigner(FilterDesign(ev), plot=False)
>>> view.controls.sources["athena"].value = True
>>> view.value
'{ ($.eventName = "GetObject") && $.sourceIPAddress != "athena.amazonaws.com" }'
>>> view.model.excluded_sources
['athena']
"""
from __future__ import annotations

import html
import io
import logging
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import ipywidgets as widgets

from s3audit.design import SHOWN_COLUMNS, FilterDesign

__all__ = ["FilterDesigner", "VALUE_INPUTS"]

log = logging.getLogger(__name__)

VALUE_INPUTS: dict[str, tuple[str, str]] = {
    "addresses": ("sourceIPAddress", "Addresses or CIDRs (one per line)"),
    "endpoints": ("vpcEndpointId", "VPC endpoint ids"),
    "user_agents": ("userAgent", "User agents (* at the start/end = wildcard)"),
    "principals": ("userIdentity.arn", "Principal ARNs (* at the start/end = wildcard)"),
}
"""Input name -> (event field, label) for the value exclusions."""


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.replace(",", "\n").splitlines() if line.strip()]


class FilterDesigner(widgets.VBox):
    """Checkboxes per access source, value inputs, the live pattern, alerts and the backtest.

    Parameters
    ----------
    design : FilterDesign
        The model. The view observes it, so changes made in code show up too.
    table_rows : int
        How many alerting events the table shows.
    plot : bool
        Render the backtest plot (off for very quick headless use).

    Examples
    --------
    >>> import pandas as pd
    >>> ev = pd.DataFrame({"eventName": ["GetObject"] * 2, "source": ["vpc-endpoint", "external"],
    ...                    "vpcEndpointId": ["vpce-1", None],
    ...                    "eventTime": pd.to_datetime(["2024-01-01T00:00Z", "2024-01-01T00:09Z"])})
    >>> ev["raw"] = ev[["eventName", "vpcEndpointId"]].apply(lambda r: r.dropna().to_json(), axis=1)
    >>> view = FilterDesigner(FilterDesign(ev), plot=False)
    >>> _ = view.model.exclude_source("vpc-endpoint", "our app")   # changes in code show up
    >>> view.controls.sources["vpc-endpoint"].value
    True
    >>> view.controls.count.value.startswith("<b><span data-alerts='1'>")
    True
    """

    def __init__(self, design: FilterDesign, *, table_rows: int = 15, plot: bool = True) -> None:
        self.model = design
        self.table_rows = table_rows
        self.plot = plot
        self._updating = False
        self.error = widgets.HTML(layout=widgets.Layout(width="100%"))
        self.error.add_class("s3audit-error")

        sources = design.sources()
        boxes: dict[str, widgets.Checkbox] = {}
        for row in sources.itertuples(index=False):
            box = widgets.Checkbox(value=bool(row.excluded), indent=False,
                                   description=self._source_text(row),
                                   layout=widgets.Layout(width="auto"))
            box.add_class("s3audit-source")
            box.add_class(f"s3audit-source-{row.source}")
            box.observe(self._guard(lambda change, label=row.source: self._toggle(label, change["new"])),
                        names="value")
            boxes[row.source] = box
        inputs: dict[str, widgets.Textarea] = {}
        for name, (field, label) in VALUE_INPUTS.items():
            area = widgets.Textarea(value="\n".join(str(v) for v in design.values(field)),
                                    placeholder=label, continuous_update=False,
                                    layout=widgets.Layout(width="100%", height="4.5em"))
            area.add_class(f"s3audit-input-{name}")
            area.observe(self._guard(lambda change, f=field: self.model.set_values(f, _lines(change["new"]))),
                         names="value")
            inputs[name] = area

        self.controls = SimpleNamespace(
            sources=boxes,
            inputs=inputs,
            pattern=widgets.HTML(layout=widgets.Layout(width="100%")),
            lint=widgets.HTML(layout=widgets.Layout(width="100%")),
            count=widgets.HTML(),
            table=widgets.HTML(layout=widgets.Layout(width="100%", overflow="auto")),
            excluded=widgets.HTML(layout=widgets.Layout(width="100%", overflow="auto")),
            discrepancies=widgets.HTML(layout=widgets.Layout(width="100%", overflow="auto")),
            backtest=widgets.Image(format="png", layout=widgets.Layout(width="100%")),
            backtest_text=widgets.HTML(),
        )
        self.controls.pattern.add_class("s3audit-pattern")
        self.controls.count.add_class("s3audit-alert-count")

        source_grid = widgets.GridBox(list(boxes.values()), layout=widgets.Layout(
            grid_template_columns="repeat(auto-fill, minmax(260px, 1fr))", width="100%"))
        value_box = widgets.GridBox(
            [widgets.VBox([widgets.HTML(f"<b>{html.escape(label)}</b>"), inputs[name]])
             for name, (_, label) in VALUE_INPUTS.items()],
            layout=widgets.Layout(grid_template_columns="repeat(2, 1fr)", width="100%"))
        tabs = widgets.Tab(children=[
            self.controls.table,
            widgets.VBox([self.controls.backtest_text, self.controls.backtest]),
            self.controls.excluded,
            self.controls.discrepancies,
        ])
        for i, title in enumerate(("Alerting events", "Backtest", "Exclusions", "Discrepancies")):
            tabs.set_title(i, title)
        super().__init__([
            widgets.HTML(f"<b>Base</b> (a read worth alarming on): <code>{html.escape(design.base)}</code>"),
            widgets.HTML("<b>Access sources</b> - tick the legitimate ones to exclude them"),
            source_grid,
            widgets.HTML("<b>Exclude values</b>"),
            value_box,
            self.error,
            widgets.HTML("<b>Metric filter pattern</b>"),
            self.controls.pattern,
            self.controls.lint,
            self.controls.count,
            tabs,
        ], layout=widgets.Layout(width="100%"))
        self.add_class("s3audit-designer")
        design.observe(self._on_model_change)
        self.refresh()

    # ---------------------------------------------------------------------------------- wiring
    def _guard(self, action: Callable[[dict[str, Any]], Any]) -> Callable[[dict[str, Any]], None]:
        """Run a control's action; show its error in the view instead of losing it."""

        def handler(change: dict[str, Any]) -> None:
            if self._updating:
                return
            try:
                self.error.value = ""
                action(change)
            except Exception as exc:  # shown to the user, never swallowed silently
                log.info("designer input refused: %s", exc)
                self.error.value = (f"<div style='color:#b00020'><b>{type(exc).__name__}:</b> "
                                    f"<pre style='white-space:pre-wrap'>{html.escape(str(exc))}</pre></div>")
        return handler

    def _toggle(self, label: str, excluded: bool) -> None:
        if excluded:
            self.model.exclude_source(label, "ticked in the filter designer")
        else:
            self.model.remove(label)

    def _on_model_change(self, _design: FilterDesign) -> None:
        self.refresh()

    @staticmethod
    def _source_text(row: Any) -> str:
        return f"{row.source} ({row.events:,} events, {row.reads:,} reads)"

    # -------------------------------------------------------------------------------- rendering
    @property
    def value(self) -> str | None:
        """The current pattern text (None while the exclusions do not fit in one pattern)."""
        pattern, _ = self.model.try_pattern()
        return pattern

    def refresh(self) -> None:
        """Re-render every output from the model (the view's only path from model to screen)."""
        self._updating = True
        try:
            excluded = set(self.model.excluded_sources)
            for label, box in self.controls.sources.items():
                box.value = label in excluded
            for name, (field, _) in VALUE_INPUTS.items():
                current = "\n".join(str(v) for v in self.model.values(field))
                if _lines(self.controls.inputs[name].value) != _lines(current):
                    self.controls.inputs[name].value = current
        finally:
            self._updating = False

        pattern, error = self.model.try_pattern()
        base_reads = int(self.model.base_mask().sum())
        if pattern is None:
            self.controls.pattern.value = (
                "<div style='color:#b00020'><pre style='white-space:pre-wrap'>"
                f"{html.escape(str(error))}</pre></div>")
            self.controls.lint.value = ""
            self.controls.count.value = (f"<span data-alerts=''>No valid pattern</span> "
                                         f"({base_reads:,} reads match the base)")
            self.controls.table.value = ""
            self.controls.backtest.value = b""
            self.controls.backtest_text.value = ""
            self._render_exclusions()
            self.controls.discrepancies.value = ""
            return
        self.controls.pattern.value = (
            f"<pre style='white-space:pre-wrap;word-break:break-all'>{html.escape(pattern)}</pre>"
            f"<small>{len(pattern)} of 1024 characters</small>")
        try:
            warnings = [str(w) for w in self.model.lint()]
        except Exception as exc:  # the lint pass failing must not hide the pattern: say so
            log.warning("lint failed: %s", exc)
            warnings = [f"lint could not run: {type(exc).__name__}: {exc}"]
        self.controls.lint.value = ("" if not warnings else
                                    "<ul style='color:#8a6d00'>" + "".join(
                                        f"<li>{html.escape(w)}</li>" for w in warnings) + "</ul>")
        alerts = self.model.alerts()
        self.controls.count.value = (
            f"<b><span data-alerts='{len(alerts)}'>{len(alerts):,}</span> alerting events</b> "
            f"of {base_reads:,} reads matching the base ({len(self.model.events):,} events)")
        shown = [c for c in SHOWN_COLUMNS if c in alerts.columns]
        self.controls.table.value = alerts[shown].head(self.table_rows).to_html(
            index=False, na_rep="", max_cols=len(shown), border=0)
        self._render_exclusions()
        summary = self.model.discrepancy_summary()
        self.controls.discrepancies.value = (
            "<i>None: the pattern does exactly what the ticked sources and values say.</i>"
            if summary.empty else summary.to_html(index=False, border=0))
        if self.plot:
            self._render_backtest()

    def _render_exclusions(self) -> None:
        table = self.model.excluded()
        self.controls.excluded.value = ("<i>No exclusions yet.</i>" if table.empty
                                        else table.to_html(index=False, border=0))

    def _render_backtest(self) -> None:
        from matplotlib.figure import Figure

        from s3audit.backtesting import plot_backtest

        result = self.model.backtest()
        figure = Figure(figsize=(10, 3.2))
        axes = figure.subplots()
        plot_backtest(result, ax=axes)
        figure.tight_layout()
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=80)
        self.controls.backtest.value = buffer.getvalue()
        alarms = result.attrs.get("alarms", [])
        self.controls.backtest_text.value = (
            f"The alarm would have fired <b>{len(alarms)}</b> time(s) over "
            f"{len(result):,} periods of {self.model.alarm.period}s.")
