"""Virtual users loading the scorecard, the segment drill-down and the cohorts page as whole
pages (HTML, layout, callback map, callbacks), and the figures they saw: requests per
second, median and p95 latency, errors."""

from __future__ import annotations

import random
import statistics
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from loadtest import dash_replay as dr
from loadtest.client import sign_in

STATUS_BANNER = "icp-data-status"


@dataclass(frozen=True)
class Sample:
    """One request: which view it belonged to, how long it took, and whether it failed."""

    view: str
    ms: float
    error: str | None


@dataclass
class Phase:
    """Everything measured in one phase of the load test."""

    name: str
    seconds: float
    samples: list[Sample] = field(default_factory=list)
    views: int = 0
    imports: list[tuple[float, int]] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        """Requests/s, latency percentiles (ms) and errors, overall and per view."""
        ms = sorted(s.ms for s in self.samples)
        errors = Counter(s.error for s in self.samples if s.error)
        per_view = {}
        for view in sorted({s.view for s in self.samples}):
            v = sorted(s.ms for s in self.samples if s.view == view)
            per_view[view] = {"requests": len(v), "median_ms": _pct(v, 50), "p95_ms": _pct(v, 95)}
        return {
            "phase": self.name,
            "seconds": round(self.seconds, 1),
            "page_views": self.views,
            "requests": len(ms),
            "requests_per_s": round(len(ms) / self.seconds, 1) if self.seconds else 0,
            "median_ms": _pct(ms, 50),
            "p95_ms": _pct(ms, 95),
            "p99_ms": _pct(ms, 99),
            "max_ms": round(ms[-1], 1) if ms else None,
            "errors": sum(errors.values()),
            "error_kinds": dict(errors),
            "per_view": per_view,
            "imports": [{"seconds": round(s, 2), "status": st} for s, st in self.imports],
        }


def _pct(sorted_ms: list[float], q: int) -> float | None:
    if not sorted_ms:
        return None
    if len(sorted_ms) == 1:
        return round(sorted_ms[0], 1)
    return round(statistics.quantiles(sorted_ms, n=100, method="inclusive")[q - 1], 1)


class Replayer:
    """Builds and sends the callback requests of one page view."""

    def __init__(self, base_url: str, http: requests.Session) -> None:
        self.base_url = base_url
        deps = http.get(base_url + "/_dash-dependencies", timeout=30).json()
        self.callbacks = dr.parse_dependencies(deps)
        shell = http.get(base_url + "/_dash-layout", timeout=30).json()
        self.shell_values = dr.props_by_id(shell)

    def view(self, http: requests.Session, name: str, path: str, search: str = "") -> list[Sample]:
        """Open ``path?search`` the way the browser does on a whole page load: the page's
        HTML, the layout and the callback map, then the callbacks of the navigation."""
        samples_page = [
            self._get(http, name, path + search),
            self._get(http, name, "/_dash-layout"),
            self._get(http, name, "/_dash-dependencies"),
        ]
        return samples_page + self._callbacks(http, name, path, search)

    def _get(self, http: requests.Session, name: str, path: str) -> Sample:
        start = time.perf_counter()
        try:
            resp = http.get(self.base_url + path, timeout=60)
        except requests.RequestException as exc:
            reason = str(exc.__context__ or exc).split(":")[-1].strip()[:60]
            return Sample(name, (time.perf_counter() - start) * 1000, f"{type(exc).__name__} ({reason})")
        ms = (time.perf_counter() - start) * 1000
        return Sample(name, ms, None if resp.status_code == 200 else f"HTTP {resp.status_code}")

    def _callbacks(self, http: requests.Session, name: str, path: str, search: str) -> list[Sample]:
        """The callbacks a page fires after a navigation, then one change of each control."""
        values = dict(self.shell_values)
        values[dr.LOCATION] = {"pathname": path, "search": search, "href": self.base_url + path + search, "hash": ""}
        samples: list[Sample] = []
        page_values: dict[str, dict[str, Any]] = {}
        for cb in dr.navigation_callbacks(self.callbacks):
            sample, body = self._call(http, name, cb, values, [f"{dr.LOCATION}.pathname"])
            samples.append(sample)
            tree = dr.page_tree(body) if body else None
            if tree is not None:
                page_values = dr.props_by_id(tree)
        values.update(page_values)
        known = set(values) | {dr.LOCATION}
        for cb in dr.initial_callbacks(self.callbacks, set(page_values), known):
            changed = [f"{cid}.{prop}" for cid, prop in cb.inputs]
            samples.append(self._call(http, name, cb, values, changed)[0])
        for cb, control in dr.control_callbacks(self.callbacks, set(page_values), known):
            samples.append(self._call(http, name, cb, values, [control])[0])
        return samples

    def _call(self, http: requests.Session, name: str, cb: dr.Callback, values: dict, changed: list[str]) -> tuple[Sample, dict | None]:
        start = time.perf_counter()
        try:
            resp = http.post(
                self.base_url + "/_dash-update-component",
                data=dr.dumps(dr.payload(cb, values, changed)),
                headers={"Content-Type": "application/json"},
                timeout=60,
            )
        except requests.RequestException as exc:
            reason = str(exc.__context__ or exc).split(":")[-1].strip()[:60]
            return Sample(name, (time.perf_counter() - start) * 1000, f"{type(exc).__name__} ({reason})"), None
        ms = (time.perf_counter() - start) * 1000
        if resp.status_code == 204:
            return Sample(name, ms, None), None
        if resp.status_code != 200:
            return Sample(name, ms, f"HTTP {resp.status_code}"), None
        body = resp.json()
        # The app's on_error answers 200 but opens the status banner: still an error.
        if STATUS_BANNER in resp.text and '"is_open":true' in resp.text.replace(" ", ""):
            return Sample(name, ms, "callback error (banner)"), body
        return Sample(name, ms, None), body


def run_phase(
    name: str,
    base_url: str,
    users: list[tuple[str, str]],
    seconds: float,
    think: tuple[float, float],
    drilldowns: list[str],
    importer: tuple[tuple[str, str], list[list[Path]]] | None = None,
    import_every: float = 30,
) -> Phase:
    """``len(users)`` virtual users for ``seconds``, each opening a random view then thinking.

    With ``importer`` ((admin email, password), file sets), an admin uploads the file
    sets in turn through ``POST /api/import``, one import starting every
    ``import_every`` seconds (or as soon as the previous one ends, if later).
    """
    phase = Phase(name, seconds)
    lock = threading.Lock()
    sessions = [_signed_in(base_url, email, password) for email, password in users]
    replayer = Replayer(base_url, sessions[0])
    # Each kind of view equally often; a drill-down goes to one of the biggest segments.
    views = {"scorecard": [("/", "")], "cohorts": [("/cohorts", "")], "drill-down": [("/segment", s) for s in drilldowns]}
    start = time.monotonic()
    deadline = start + seconds

    def user(i: int) -> None:
        rng = random.Random(i)
        time.sleep(rng.uniform(0, think[1]))  # users do not all click in the same millisecond
        while time.monotonic() < deadline:
            view = rng.choice(sorted(views))
            path, search = rng.choice(views[view])
            got = replayer.view(sessions[i], view, path, search)
            with lock:
                phase.samples.extend(got)
                phase.views += 1
            time.sleep(rng.uniform(*think))

    def uploads() -> None:
        assert importer is not None
        (email, password), file_sets = importer
        http = _signed_in(base_url, email, password)
        token = http.get(base_url + "/api/csrf", timeout=30).json()["csrf_token"]
        n = 0
        while time.monotonic() < deadline:
            files = [("files", (p.name, p.read_bytes())) for p in file_sets[n % len(file_sets)]]
            t0 = time.perf_counter()
            resp = http.post(base_url + "/api/import", files=files, headers={"X-CSRFToken": token}, timeout=300)
            took = time.perf_counter() - t0
            with lock:
                phase.imports.append((took, resp.status_code))
            n += 1
            time.sleep(max(0.0, min(import_every - took, deadline - time.monotonic())))

    threads = [threading.Thread(target=user, args=(i,), daemon=True) for i in range(len(users))]
    if importer is not None:
        threads.append(threading.Thread(target=uploads, daemon=True))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    phase.seconds = time.monotonic() - start
    return phase


def _signed_in(base_url: str, email: str, password: str) -> requests.Session:
    http, resp = sign_in(base_url, email, password)
    if resp.status_code != 302:
        raise RuntimeError(f"sign-in of {email} failed: HTTP {resp.status_code}")
    return http
