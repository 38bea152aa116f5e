#!/usr/bin/env bash
# Create .venv with the pinned dependencies and the `kpis` command (idempotent, ~5 s with uv;
# never installs anything outside .venv).
set -euo pipefail
cd "$(dirname "$0")/../.."

PYTHON=${PYTHON:-python3}
stamp=.venv/.installed-$(sha256sum pyproject.toml | cut -c1-16)
if [ -f "$stamp" ]; then exit 0; fi

# Everything goes into .venv: the machine's Python is only used to create it. uv (a fast
# installer from PyPI) is taken from PATH when there, else installed into .venv itself.
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
UV=$(command -v uv || true)
if [ -z "$UV" ]; then
  if [ ! -x .venv/bin/uv ]; then
    .venv/bin/python -m pip --version >/dev/null 2>&1 || .venv/bin/python -m ensurepip --quiet
    echo "setup: installing uv (fast Python package installer) into .venv" >&2
    .venv/bin/python -m pip install --quiet --disable-pip-version-check "uv==0.9.30" \
      || echo "setup: uv unavailable, installing with pip (slower)" >&2
  fi
  [ -x .venv/bin/uv ] && UV=.venv/bin/uv
fi
if [ -n "$UV" ]; then
  "$UV" pip install --quiet --python .venv/bin/python -e '.[dev]'
else
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
fi
rm -f .venv/.installed-*
touch "$stamp"
echo "setup: .venv ready ($(.venv/bin/kpis --version))" >&2
