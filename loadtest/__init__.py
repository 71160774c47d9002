"""Load test of ICP Lens under gunicorn: ``make loadtest`` (``python -m loadtest``)."""
