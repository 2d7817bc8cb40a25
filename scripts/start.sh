#!/usr/bin/env bash
# npm start: installs what it needs, builds and packages Switchyard, and serves a real VS Code on
# 127.0.0.1 with Switchyard installed and the demo multi-crate Rust workspace open. Ctrl-C stops
# everything it started. Options (environment): PORT (default 8080), SWITCHYARD_WORKSPACE (a folder to open).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PORT=${PORT:-8080}
RUN="$ROOT/.cache/start"
bash scripts/ensure-deps.sh
bash scripts/ensure-langs.sh   # bubblewrap (the agent's OS sandbox), Go, pytest and make, from Debian when root
echo "[start] building and packaging" >&2
npm run -s package >/dev/null
VSIX=$(ls -t "$ROOT"/switchyard-*.vsix | head -1)
CACHE=$(bash scripts/e2e/install.sh)
NODE24="$CACHE/node24/package/bin/node"; CS="$CACHE/cs/node_modules/code-server/out/node/entry.js"
mkdir -p "$RUN/ud/User" "$RUN/exts"
WS=${SWITCHYARD_WORKSPACE:-$RUN/demo-workspace}
# The demo workspace is ours, so it opens trusted; a folder of yours gets VS Code's usual trust prompt.
trust=(); [ -n "${SWITCHYARD_WORKSPACE:-}" ] || trust=(--disable-workspace-trust)
if [ -z "${SWITCHYARD_WORKSPACE:-}" ] && [ ! -d "$WS" ]; then
  cp -r "$ROOT/demo" "$WS"
  git -C "$WS" init -q && git -C "$WS" add -A && git -C "$WS" -c user.email=demo@example.invalid -c user.name=demo commit -qm "demo workspace"
fi
[ -f "$RUN/ud/User/settings.json" ] || echo '{ "workbench.startupEditor": "none", "telemetry.telemetryLevel": "off", "update.mode": "none", "extensions.autoCheckUpdates": false, "chat.disableAIFeatures": true, "workbench.secondarySideBar.defaultVisibility": "hidden" }' > "$RUN/ud/User/settings.json"
# The local lane out of the box: with no vLLM (no GPU here) and no llama-server on PATH, build llama.cpp's
# server once (about 5 minutes, cached in .cache/llama) and make a tiny random-weight model, and point the
# extension's settings at them. Its answers are gibberish: it shows the lifecycle and the routing, not quality.
if [ -z "${SWITCHYARD_RUNTIME_BINARY:-}" ] && ! command -v vllm >/dev/null && ! command -v llama-server >/dev/null; then
  echo "[start] no vLLM or llama-server here: building llama.cpp's llama-server (once, about 5 minutes) and a tiny test model" >&2
  if bash scripts/llm/build-llama-server.sh >&2; then
    mkdir -p "$RUN/models"
    MODEL="$RUN/models/switchyard-tiny-random-weights.gguf"
    [ -f "$MODEL" ] || npx tsx scripts/llm/make-tiny-model.ts "$MODEL" >/dev/null
    # Machine-scoped settings: in the user settings and in code-server's remote machine settings (the
    # workbench may read them from either, and after a window reload only from the latter).
    mkdir -p "$RUN/ud/Machine"
    [ -f "$RUN/ud/Machine/settings.json" ] || echo '{}' > "$RUN/ud/Machine/settings.json"
    for file in "$RUN/ud/User/settings.json" "$RUN/ud/Machine/settings.json"; do
      node -e '
        const fs = require("fs"); const [file, bin, model] = process.argv.slice(1);
        const s = JSON.parse(fs.readFileSync(file, "utf8"));
        s["switchyard.runtime.binaryPath"] ??= bin; s["switchyard.runtime.modelPath"] ??= model;
        fs.writeFileSync(file, JSON.stringify(s, null, 2));' "$file" "$ROOT/.cache/llama/llama-server" "$MODEL"
    done
    echo "[start] local lane: llama.cpp with a tiny random-weight model ($MODEL); start it from the status bar" >&2
  else
    echo "[start] llama-server could not be built; the local lane needs vLLM, llama-server or an external endpoint" >&2
  fi
fi
export XDG_CONFIG_HOME="$RUN/xdg/config" XDG_DATA_HOME="$RUN/xdg/data" XDG_CACHE_HOME="$RUN/xdg/cache"
common=(--auth none --user-data-dir "$RUN/ud" --extensions-dir "$RUN/exts")
"$NODE24" "$CS" "${common[@]}" --install-extension "$VSIX" --force >/dev/null
setsid "$NODE24" "$CS" "${common[@]}" --bind-addr "127.0.0.1:$PORT" --disable-telemetry --disable-update-check \
  --disable-getting-started-override "${trust[@]}" "$WS" > "$RUN/server.log" 2>&1 &
PGID=$!
stop() { trap - INT TERM EXIT; echo; echo "[start] stopping VS Code (process group $PGID)" >&2; kill -TERM -- -"$PGID" 2>/dev/null; wait "$PGID" 2>/dev/null; exit 0; }
trap stop INT TERM EXIT
for _ in $(seq 1 120); do
  curl -fsS "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break
  kill -0 "$PGID" 2>/dev/null || { echo "[start] VS Code failed to start:"; cat "$RUN/server.log"; exit 1; }
  sleep 0.5
done
echo
echo "Switchyard is running in VS Code: http://127.0.0.1:$PORT/?folder=$WS"
echo "(log: $RUN/server.log; press Ctrl-C to stop)"
wait "$PGID"
