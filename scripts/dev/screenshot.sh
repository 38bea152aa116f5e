#!/usr/bin/env bash
# `make screenshot`: the README's picture of `kpis report`, from the current warehouse (run it
# right after `make demo`, so it shows what a new user sees). Needs Debian's chromium.
#   scripts/dev/screenshot.sh [output.png]   (default scripts/report-screenshot.png)
set -euo pipefail
cd "$(dirname "$0")/../.."
output=${1:-scripts/report-screenshot.png}
browser=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$browser" ]; then
  echo "screenshot: needs headless Chromium (apt-get install chromium)" >&2
  exit 2
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
.venv/bin/kpis report --output-dir "$work/report"
"$browser" --headless --no-sandbox --disable-gpu --no-first-run --hide-scrollbars \
  --disable-background-networking --disable-component-update --disable-sync \
  --user-data-dir="$work/profile" --window-size=1200,1500 \
  --screenshot="$work/shot.png" "file://$work/report/index.html" >/dev/null 2>&1
mv "$work/shot.png" "$output"
echo "screenshot: wrote $output"
