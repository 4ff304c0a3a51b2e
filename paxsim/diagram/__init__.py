"""Message sequence diagrams of any run, drawn like the tutorial's figures.

::

    from paxsim import load_scenario, run_scenario
    from paxsim.diagram import as_text, build, save

    r = run_scenario(load_scenario("scenarios/fig02.toml"))
    d = build(r)                       # a Trace, RunResult, trace file or records
    save(d, "fig02.svg")               # .svg, .png or .pdf (matplotlib, Agg)
    print(as_text(d))                  # the terminal rendering
    d                                  # in a notebook: shown inline as SVG

:mod:`.model` lays the diagram out (lanes, arrows, boxes, label placement) in
points, independent of output; :mod:`.overview` summarises a run too big to draw
message by message (one row per request); :mod:`.mpl`, :mod:`.text` and
:mod:`.html` (the interactive browser view) only read those layouts. Dependencies
point one way: renderers import the model, never the reverse.
"""

from __future__ import annotations

from typing import Any, Optional, Union

from . import model, overview
from .model import DiagramError, as_records, processes


class InlineSVG:
    """Shown inline in a notebook, as SVG (drawn by :mod:`.mpl`)."""

    def _repr_svg_(self) -> str:
        from .mpl import svg_string

        return svg_string(self)


class Diagram(InlineSVG, model.Diagram):
    """A laid-out message sequence diagram (see :mod:`.model`)."""


class Overview(InlineSVG, overview.Overview):
    """A laid-out overview, one row per request (see :mod:`.overview`)."""


def build(source: Any, **options: Any) -> Diagram:
    """Lay out the message sequence diagram of ``source`` (see :func:`.model.build`)."""
    return model.build(source, cls=Diagram, **options)


def save(d: Union[Diagram, Overview], path: str, fmt: Optional[str] = None, dpi: Optional[float] = None) -> None:
    """Write ``d`` as SVG, PNG or PDF (``fmt`` or the suffix of ``path``), atomically."""
    from .mpl import save as _save

    _save(d, path, fmt, dpi)


def as_text(d: Union[Diagram, Overview]) -> str:
    """The diagram as plain text (the module :mod:`.text` draws it)."""
    from .text import render

    return render(d)


def svg(d: Diagram) -> str:
    """The diagram as an SVG document (a string)."""
    from .mpl import svg_string

    return svg_string(d)


def layout(source: Any, *, full: bool = False, **options: Any) -> Union[Diagram, Overview]:
    """The diagram of ``source``, or its overview (one row per request, see
    :mod:`.overview`) when it has more than ``overview.LIMIT`` messages to draw and
    neither ``full`` nor a narrowing option (``only``, ``t_from``, ``t_to``) is given."""
    from .overview import LIMIT, build_overview, drawn_messages

    narrowed = full or any(options.get(k) is not None for k in ("only", "t_from", "t_to"))
    if not narrowed:
        n = drawn_messages(as_records(source), bool(options.get("heartbeats")))
        if n > LIMIT:
            return build_overview(source, title=options.get("title", ""), cls=Overview,
                                  reason=f"{n:,} messages are too many to draw one by one")
    return build(source, **options)


def draw(source: Any, path: Optional[str] = None, fmt: Optional[str] = None, **options: Any) -> Union[Diagram, Overview]:
    """Lay out ``source`` (see :func:`layout`) and, if ``path`` is given, write it there."""
    d = layout(source, **options)
    if path is not None:
        save(d, path, fmt)
    return d


__all__ = ["Diagram", "DiagramError", "Overview", "as_records", "as_text", "build", "draw", "layout", "processes",
           "save", "svg"]
