#!/usr/bin/env bash
# Make sure Debian's Chromium is installed at /usr/bin/chromium (for browser
# tests; test tools must not download their own browser) and print its version.
# Idempotent; runs as root. Progress goes to stderr, the version to stdout.
set -euo pipefail

log() { echo "[chromium.sh] $*" >&2; }
export DEBIAN_FRONTEND=noninteractive

if [[ ! -x /usr/bin/chromium ]]; then
  if [[ $(id -u) -ne 0 ]]; then
    log "/usr/bin/chromium is missing and installing it needs root"
    exit 1
  fi
  out=$(mktemp /tmp/warden-ci-log.XXXXXX)
  trap 'rm -f "$out"' EXIT
  install() { apt-get install -y --no-install-recommends chromium >"$out" 2>&1; }
  log "installing Debian package chromium"
  # Use the existing package lists if they know chromium; otherwise update once.
  if ! apt-cache show chromium >/dev/null 2>&1 || ! install; then
    log "apt-get update"
    apt-get update -qq >"$out" 2>&1 || { cat "$out" >&2; exit 1; }
    install || { cat "$out" >&2; exit 1; }
  fi
fi

/usr/bin/chromium --version 2>/dev/null | grep -v '^\s*$' | tail -n1
