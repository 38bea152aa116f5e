#!/usr/bin/env bash
# The pre-commit hooks (.pre-commit-config.yaml) on every tracked file; the same hooks run on
# each commit after `.venv/bin/pre-commit install`. Exits non-zero on any finding.
set -euo pipefail
cd "$(dirname "$0")/../.."
exec .venv/bin/pre-commit run --all-files --show-diff-on-failure --color never
