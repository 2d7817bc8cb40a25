#!/usr/bin/env bash
# The toolchains the checks tests run for real (issue: checks for every workspace): Go and pytest, from Debian;
# and the OS sandbox the agent's commands and checks run in (bubblewrap, socat for the sandbox's named hosts).
# Installed when missing and this runs as root; otherwise the tests that need them are skipped and say why.
set -uo pipefail
missing=()
command -v go >/dev/null 2>&1 || missing+=(golang-go)
python3 -m pytest --version >/dev/null 2>&1 || missing+=(python3-pytest)
command -v make >/dev/null 2>&1 || missing+=(make)
command -v bwrap >/dev/null 2>&1 || missing+=(bubblewrap)
command -v socat >/dev/null 2>&1 || missing+=(socat)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "[setup] not root: ${missing[*]} not installed; the tests that need them are skipped" >&2
  exit 0
fi
echo "[setup] apt-get install ${missing[*]}" >&2
apt-get update -qq >/dev/null 2>&1
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null 2>&1 ||
  echo "[setup] could not install ${missing[*]}: the tests that need them are skipped" >&2
exit 0
