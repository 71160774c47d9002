"""``POST /api/import``: multipart upload of export files for scripts and admins.

Admins only, CSRF token required (``csrf_token`` form field or ``X-CSRFToken``
header; ``GET /api/csrf`` gives a signed-in session its token), each file within ICP_UPLOAD_MAX_MB. The
import runs as a job in its own process with limits (``db.importer.jobs``), never in the
web worker, which waits for it: either every row lands or none.
"""

from __future__ import annotations

import logging

from flask import Flask, Response, current_app, jsonify, request
from flask_wtf.csrf import generate_csrf

from app.auth import current_user, require_role
from db.config import get_config

log = logging.getLogger("icp.api")


def register(server: Flask) -> None:
    """Add the import route."""
    server.add_url_rule("/api/csrf", "api_csrf", csrf_token)
    server.add_url_rule("/api/import", "api_import", import_files, methods=["POST"])


def csrf_token() -> Response:
    """The signed-in session's CSRF token, for scripts calling the POST routes."""
    return jsonify(csrf_token=generate_csrf())


@require_role("admin")
def import_files() -> tuple[Response, int]:
    """Import the uploaded files; 200 with the result, 422 with every problem, 400/413 when unusable."""
    from app.commands import imports
    from db.importer import ImportFile

    uploads = request.files.getlist("files")
    if not uploads:
        return jsonify(error="no files: send them as multipart form field 'files'"), 400
    cap = get_config().icp_upload_max_mb * 1024 * 1024
    files = []
    for upload in uploads:
        data = upload.read(cap + 1)
        if len(data) > cap:
            return jsonify(error=f"{upload.filename} is larger than {cap // (1024 * 1024)} MB"), 413
        files.append(ImportFile(upload.filename or "upload", data))
    user = current_user()
    job = imports.import_and_wait(
        files, user.email if user else "unknown", current_app._get_current_object().app_context
    )
    log.info("import via api", extra={"files": [f.name for f in files], "job": job["job_id"]})
    if job["status"] == "failed":
        return jsonify(error=job["error"], job_id=job["job_id"], batch_id=job["batch_id"]), 400
    result = job["result"] or {}
    if "rejected" in result:
        return jsonify(error="the files hold problems; nothing was imported",
                       plan=result["rejected"], job_id=job["job_id"]), 422
    return jsonify({**result["import"], "job_id": job["job_id"]}), 200
