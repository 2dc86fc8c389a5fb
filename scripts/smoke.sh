#!/usr/bin/env bash
# Starts the app under Xvfb with a fresh home (no token: it must come up on the sandbox),
# waits, optionally takes a screenshot, and fails if the app died.
# Usage: scripts/smoke.sh BINARY [SCREENSHOT.png]
set -euo pipefail
bin=$1
shot=${2:-}
home=$(mktemp -d)
display=:$((90 + RANDOM % 9))
Xvfb "$display" -screen 0 1280x800x24 >/dev/null 2>&1 &
xvfb=$!
trap 'kill $app $xvfb 2>/dev/null || true; rm -rf "$home"' EXIT
sleep 1
HOME=$home XDG_DATA_HOME=$home/data XDG_CONFIG_HOME=$home/config XDG_CACHE_HOME=$home/cache \
  DISPLAY=$display LIBGL_ALWAYS_SOFTWARE=1 RUST_LOG=info "$bin" >"$home/app.log" 2>&1 &
app=$!
sleep "${SMOKE_SECONDS:-8}"
if ! kill -0 "$app" 2>/dev/null; then
  echo "the app exited early:"; cat "$home/app.log"; exit 1
fi
if [ -n "$shot" ]; then
  xwd -root -display "$display" | xwdtopnm 2>/dev/null | pnmtopng >"$shot"
  echo "screenshot: $shot"
fi
grep -q "sandbox" "$home/app.log" && echo "smoke: the app is up on the sandbox" || { cat "$home/app.log"; exit 1; }
