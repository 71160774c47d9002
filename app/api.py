"""``POST /api/import``: multipart upload of export files for scripts and admins.

Admins only, CSRF token required (``csrf_token`` form field or ``X-CSRFToken``
header; ``GET /api/csrf`` gives a signed-in session its token), each file within ICP_UPLOAD_MAX_MB. The
importer does all the work in one transaction: either every row lands or none.
"""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify, request
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
    from db.engine import get_engine
    from db.importer import ImportFile, ImportRefused, ImportRejected, run_import

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
    try:
        result = run_import(files, get_engine(), user=user.email if user else "unknown")
    except ImportRejected as exc:
        return jsonify(error="the files hold problems; nothing was imported", plan=exc.plan.to_dict()), 422
    except ImportRefused as exc:
        return jsonify(error=str(exc)), 400
    log.info("import via api", extra={"files": [f.name for f in files]})
    return jsonify(result.to_dict()), 200
