# ICP Lens: multi-stage image. The builder installs the locked runtime dependencies
# into a virtualenv; the runtime stage copies only that venv and the source, and
# runs as a non-root user.
FROM python:3.11-slim-bookworm AS builder
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv && /opt/venv/bin/pip install uv==0.13.9
WORKDIR /srv/icp
# Dependencies first, so editing the code does not rebuild this layer.
COPY requirements.lock ./
RUN /opt/venv/bin/uv pip install --python /opt/venv/bin/python -r requirements.lock
COPY pyproject.toml README.md gunicorn.conf.py ./
COPY app ./app
COPY db ./db
COPY metrics ./metrics
COPY assets ./assets
# Editable: the app finds assets/ beside its package, so the code stays at /srv/icp.
RUN /opt/venv/bin/uv pip install --python /opt/venv/bin/python --no-deps -e . \
    && /opt/venv/bin/python -m compileall -q app db metrics

FROM python:3.11-slim-bookworm AS runtime
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    ICP_BIND=0.0.0.0:8000 \
    ICP_DATA_DIR=/srv/icp/data
# Debian's Chromium prints the board pack (PDF) and the scorecard PNG (app/board.py). Not
# pinned: bookworm replaces Chromium with each security release, and an old pin fails to build.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends chromium fonts-liberation \
    && rm -rf /var/lib/apt/lists/*
RUN useradd --system --uid 10001 --create-home --home-dir /home/icp icp
COPY --from=builder /opt/venv /opt/venv
COPY --from=builder /srv/icp /srv/icp
RUN mkdir -p /srv/icp/data && chown icp:icp /srv/icp/data
WORKDIR /srv/icp
# Numeric, so a host or Kubernetes (runAsNonRoot) can tell it is not root without our /etc/passwd.
USER 10001
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]
CMD ["gunicorn", "-c", "gunicorn.conf.py", "app.wsgi:server"]
