#!/usr/bin/env bash
# Create .venv with the pinned dependencies and the `kpis` command (idempotent, ~5 s with uv).
set -euo pipefail
cd "$(dirname "$0")/../.."

PYTHON=${PYTHON:-python3}
stamp=.venv/.installed-$(sha256sum pyproject.toml | cut -c1-16)
if [ -f "$stamp" ]; then exit 0; fi

if ! command -v uv >/dev/null 2>&1; then
  echo "setup: installing uv (fast Python package installer) from PyPI" >&2
  "$PYTHON" -m pip install --quiet --disable-pip-version-check "uv==0.9.30" \
    || "$PYTHON" -m pip install --quiet --user --disable-pip-version-check "uv==0.9.30"
  export PATH="$HOME/.local/bin:$PATH"
fi
if command -v uv >/dev/null 2>&1; then
  [ -x .venv/bin/python ] || uv venv --quiet --python "$PYTHON" .venv
  uv pip install --quiet --python .venv/bin/python -e '.[dev]'
else
  [ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
fi
rm -f .venv/.installed-*
touch "$stamp"
echo "setup: .venv ready ($(.venv/bin/kpis --version))" >&2
