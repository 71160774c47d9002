"""The "Demo data" ribbon every page shows while the warehouse holds the demo company.

Demo and real data never mix, and nobody should take the demo's numbers for their
own: the ribbon is in the page shell, checked at each page load and navigation
(``db.importer.holds_demo``, one ``EXISTS`` query), so it disappears as soon as an import replaces
the demo.
"""

from __future__ import annotations

from dash import Input, Output, callback, html

from app.commands import imports
from app.health import DB_ERRORS

RIBBON_ID = "icp-demo-ribbon"
TEXT = (
    "Demo data: these numbers describe a made-up company. Upload your exports "
    "(or run icp import) to replace it."
)


def _class() -> str:
    try:
        shown = imports.holds_demo()
    except DB_ERRORS:
        # The data-status banner says the warehouse is down; no ribbon to add to it.
        shown = False
    return "demo-ribbon" if shown else "demo-ribbon d-none"


def demo_ribbon() -> html.Div:
    """The ribbon, shown while the warehouse holds demo rows."""
    return html.Div(TEXT, id=RIBBON_ID, className=_class(), role="status")


@callback(Output(RIBBON_ID, "className"), Input("_pages_location", "pathname"))
def show_ribbon(_pathname: str | None) -> str:
    """Show or hide the ribbon at every navigation (an upload may have replaced the demo)."""
    return _class()
