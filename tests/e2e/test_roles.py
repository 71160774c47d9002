"""A viewer can neither see nor call the admin callbacks; the server says no (403)."""

from __future__ import annotations

import base64
from typing import Any

from playwright.sync_api import expect

from tests.e2e.conftest import open_page


def _outputs(output: str) -> list[dict[str, str]]:
    # "..a.children...b.disabled.." -> [{"id": "a", "property": "children"}, ...]
    parts = output.strip(".").split("...")
    return [dict(zip(("id", "property"), p.rsplit(".", 1), strict=True)) for p in parts]


def _payload(deps: list[dict[str, Any]], trigger: str, values: dict[str, Any]) -> dict:
    """A /_dash-update-component request for the callback fired by ``trigger`` (id.property)."""
    dep = next(
        d for d in deps if any(f"{i['id']}.{i['property']}" == trigger for i in d["inputs"])
    )

    def item(spec: dict[str, str]) -> Any:
        if spec["id"].startswith("{"):
            return []  # a pattern-matching id matching no component
        key = f"{spec['id']}.{spec['property']}"
        return {"id": spec["id"], "property": spec["property"], "value": values.get(key)}

    outputs = _outputs(dep["output"])
    return {
        "output": dep["output"],
        "outputs": outputs if len(outputs) > 1 else outputs[0],
        "inputs": [item(s) for s in dep["inputs"]],
        "state": [item(s) for s in dep["state"]],
        "changedPropIds": [trigger],
    }


def test_a_viewer_sees_no_upload_or_settings(viewer_context) -> None:
    page = viewer_context.new_page()
    open_page(page, "/")
    nav = page.locator(".navbar")
    expect(nav).to_contain_text("Scorecard")
    expect(nav.get_by_role("link", name="Upload")).to_have_count(0)
    expect(nav.get_by_role("link", name="Settings")).to_have_count(0)
    open_page(page, "/upload")
    expect(page.locator("#_pages_content")).to_contain_text("needs the admin role")
    expect(page.locator("#up-upload")).to_have_count(0)
    page.close()


VIEWER_LINKS = [
    "Scorecard", "Discover", "Targets", "Economics", "Cohorts", "Accidental ICP", "ICP drift", "Revenue",
]


def _nav_links(context) -> list[str]:
    page = context.new_page()
    open_page(page, "/")
    links = page.locator(".navbar .nav-link").all_inner_texts()
    page.close()
    # The drift link carries its open-alert badge: keep the label only.
    return [text.rstrip("0123456789 \n") for text in links]


def test_the_navigation_lists_the_registered_pages_each_role_may_open(
    admin_context, viewer_context
) -> None:
    assert _nav_links(viewer_context) == VIEWER_LINKS
    # The segment page is a drill-down (nav=False): reached from the scorecard, not linked.
    assert _nav_links(admin_context) == [*VIEWER_LINKS, "Upload", "Settings"]


def test_a_viewer_calling_the_admin_callbacks_directly_gets_403(viewer_context) -> None:
    request = viewer_context.request
    deps = request.get("/_dash-dependencies").json()
    csv_file = "data:text/csv;base64," + base64.b64encode(b"account_id,vertical\nX-1,Tech\n").decode()
    upload = {"up-upload.contents": [csv_file], "up-upload.filename": ["a.csv"]}
    calls = {
        "up-upload.contents": upload,
        "up-import.n_clicks": {"up-import.n_clicks": 1, **upload},
        "up-confirm-yes.n_clicks": {"up-confirm-yes.n_clicks": 1,
                                    "up-history.selectedRows": [{"batch_id": 1}]},
        "st-save-icp.n_clicks": {"st-save-icp.n_clicks": 1},
        "st-save-economics.n_clicks": {"st-save-economics.n_clicks": 1},
        "st-save-bands.n_clicks": {"st-save-bands.n_clicks": 1},
    }
    for trigger, values in calls.items():
        response = request.post("/_dash-update-component", data=_payload(deps, trigger, values))
        assert response.status == 403, (trigger, response.status, response.text()[:200])


def test_an_admin_may_call_the_same_callback(admin_context) -> None:
    request = admin_context.request
    deps = request.get("/_dash-dependencies").json()
    payload = _payload(deps, "up-upload.contents", {"up-upload.contents": None})
    response = request.post("/_dash-update-component", data=payload)
    assert response.status == 200, response.text()[:300]
