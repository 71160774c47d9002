#!/usr/bin/env bash
# The board pack's test turns its PDF pages into PNGs with poppler's pdftoppm (for
# people to look at, and to check each page renders); install it when it is missing.
set -euo pipefail
if command -v pdftoppm >/dev/null 2>&1; then exit 0; fi
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
echo "installing Debian's poppler-utils (pdftoppm) for the board pack test" >&2
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends poppler-utils >/dev/null
command -v pdftoppm
