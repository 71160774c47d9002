"""Replay the callback requests a browser sends when it opens a Dash page.

The payloads are built from the app's own callback map (``/_dash-dependencies``)
and the layouts the server returns, the way dash-renderer does it: after a
navigation, the callbacks listening to the URL fire first (the page container
among them), then every callback whose inputs all exist once the new page is in
place and that is not ``prevent_initial_call``; then, as a user would, each
control of the page is changed once. Pattern-matching and clientside
callbacks are left out (the first need the browser's wildcard expansion, the
second never reach the server).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

LOCATION = "_pages_location"


@dataclass(frozen=True)
class Callback:
    """One server callback of the callback map."""

    output: str
    outputs: list[dict[str, str]]
    multi: bool
    inputs: list[tuple[str, str]]
    state: list[tuple[str, str]]
    prevent_initial_call: bool

    @property
    def input_ids(self) -> set[str]:
        """Component ids the callback listens to."""
        return {cid for cid, _ in self.inputs}


def _split(spec: str) -> tuple[str, str]:
    cid, prop = spec.rsplit(".", 1)
    return cid, prop.split("@", 1)[0]


def parse_dependencies(deps: list[dict[str, Any]]) -> list[Callback]:
    """The server callbacks of ``/_dash-dependencies`` that a replay can call."""
    found = []
    for dep in deps:
        if dep.get("clientside_function"):
            continue
        ids = [i["id"] for i in dep["inputs"] + dep.get("state", [])]
        if any(cid.startswith("{") for cid in ids) or "{" in dep["output"]:
            continue
        multi = dep["output"].startswith("..")
        specs = dep["output"].strip(".").split("...") if multi else [dep["output"]]
        outputs = [dict(zip(("id", "property"), _split(s), strict=True)) for s in specs]
        found.append(
            Callback(
                output=dep["output"],
                outputs=outputs,
                multi=multi,
                inputs=[(i["id"], i["property"]) for i in dep["inputs"]],
                state=[(s["id"], s["property"]) for s in dep.get("state", [])],
                prevent_initial_call=bool(dep.get("prevent_initial_call")),
            )
        )
    return found


def components(tree: Any) -> Iterator[dict[str, Any]]:
    """Every component (its props) in a layout tree, depth first."""
    if isinstance(tree, list):
        for item in tree:
            yield from components(item)
    elif isinstance(tree, dict):
        props = tree.get("props")
        if isinstance(props, dict) and "type" in tree:
            yield props
            for value in props.values():
                yield from components(value)
        else:
            for value in tree.values():
                yield from components(value)


def props_by_id(tree: Any) -> dict[str, dict[str, Any]]:
    """Props of every component with a plain string id."""
    return {p["id"]: p for p in components(tree) if isinstance(p.get("id"), str)}


def payload(cb: Callback, values: dict[str, dict[str, Any]], changed: list[str]) -> dict[str, Any]:
    """The JSON body dash-renderer posts to ``/_dash-update-component`` for ``cb``."""

    def entry(cid: str, prop: str) -> dict[str, Any]:
        return {"id": cid, "property": prop, "value": values.get(cid, {}).get(prop)}

    return {
        "output": cb.output,
        "outputs": cb.outputs if cb.multi else cb.outputs[0],
        "inputs": [entry(c, p) for c, p in cb.inputs],
        "state": [entry(c, p) for c, p in cb.state],
        "changedPropIds": changed,
    }


def navigation_callbacks(callbacks: list[Callback]) -> list[Callback]:
    """The callbacks a URL change fires (the page container among them)."""
    return [cb for cb in callbacks if LOCATION in cb.input_ids]


def initial_callbacks(callbacks: list[Callback], page_ids: set[str], known_ids: set[str]) -> list[Callback]:
    """Callbacks the browser fires once a page with ``page_ids`` is mounted."""
    return [
        cb
        for cb in callbacks
        if not cb.prevent_initial_call
        and LOCATION not in cb.input_ids
        and cb.input_ids & page_ids
        and cb.input_ids <= known_ids
    ]


def control_callbacks(callbacks: list[Callback], page_ids: set[str], known_ids: set[str]) -> list[tuple[Callback, str]]:
    """Callbacks a user fires by changing a control (a dropdown value or a tab) of the page,
    each with the input that changed. Clicks are left out: they save, roll back or download."""
    found = []
    for cb in callbacks:
        if LOCATION in cb.input_ids or not cb.input_ids <= known_ids or not cb.input_ids & page_ids:
            continue
        controls = [f"{cid}.{prop}" for cid, prop in cb.inputs if cid in page_ids and prop in ("value", "active_tab")]
        if controls:
            found.append((cb, controls[0]))
    return found


def page_tree(response: dict[str, Any]) -> Any:
    """The page layout in the page container callback's response."""
    return response.get("response", {}).get("_pages_content", {}).get("children")


def dumps(body: dict[str, Any]) -> str:
    """Compact JSON as the browser sends it."""
    return json.dumps(body, separators=(",", ":"))
