#!/usr/bin/env bash
# The tests that run ICP Lens against real parts start their own PostgreSQL, Redis, nginx and
# OpenID Connect provider (tests/services.py), each in a temp folder on a free port: the
# packages' own system services are never used. Install what is missing: Debian's packages
# and the pinned oidc-provider from tests/oidc/package-lock.json. A part that still cannot
# be had makes its tests skip, saying which.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx)
command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)

if [ ${#missing[@]} -gt 0 ]; then
    SUDO=""
    if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
    echo "installing Debian's ${missing[*]} for the tests on real services" >&2
    if $SUDO apt-get update -qq \
        && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
            "${missing[@]}" >/dev/null; then
        :
    else
        echo "could not install ${missing[*]}: the tests that need them will skip" >&2
    fi
fi

# npm ci only when the lock changed since the last install (a copy of it marks the install).
oidc=tests/oidc
stamp="$oidc/node_modules/.installed-lock.json"
if command -v npm >/dev/null 2>&1 && ! cmp -s "$oidc/package-lock.json" "$stamp" 2>/dev/null; then
    echo "installing the test OpenID Connect provider (npm ci in $oidc)" >&2
    if (cd "$oidc" && npm ci --no-audit --no-fund --loglevel=error); then
        cp "$oidc/package-lock.json" "$stamp"
    else
        echo "npm ci failed in $oidc: the single sign-on browser test will skip" >&2
    fi
fi
