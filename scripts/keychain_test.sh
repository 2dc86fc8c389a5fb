#!/usr/bin/env bash
# The keychain test against a real Secret Service: a private session bus with gnome-keyring,
# its keyrings in a temporary directory, unlocked with a throwaway password.
set -euo pipefail
cd "$(dirname "$0")/.."
keyrings="$(mktemp -d)"
trap 'rm -rf "$keyrings"' EXIT
XDG_DATA_HOME="$keyrings" dbus-run-session -- bash -c '
  echo -n "ci-keyring" | gnome-keyring-daemon --unlock --components=secrets >/dev/null
  MAPFLOW_KEYCHAIN_TEST=1 cargo test --locked -p mapflow-desktop --test process keychain -- --nocapture
'
