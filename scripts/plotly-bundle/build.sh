#!/bin/sh
# Rebuild assets/vendor/plotly-icp.min.js: plotly.js (the version the installed Python
# plotly package speaks, pinned in package.json) with only the trace types of entry.js.
# Run after upgrading plotly or drawing a new trace type; commit the result.
set -eu
cd "$(dirname "$0")"
npm ci --no-audit --no-fund
version=$(node -p "require('plotly.js/package.json').version")
traces=$(sed -n "s/.*require('plotly.js\/lib\/\([a-z0-9]*\)').*/\1/p" entry.js | grep -v '^core$' | tr '\n' ' ')
npx esbuild entry.js --bundle --minify --format=iife --global-name=Plotly --target=es2016 \
  --define:global=window --define:define.amd=false --loader:.css=empty --log-level=warning \
  --banner:js="/* plotly.js v$version (MIT, Plotly, Inc.), partial bundle for ICP Lens: traces scatter $traces*/" \
  --outfile=../../assets/vendor/plotly-icp.min.js
