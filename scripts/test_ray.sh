#!/usr/bin/env bash
# The Ray tests: remotemedia.ray on a real local Ray cluster
# (tests/test_ray.py, `ray.init(num_cpus=2)`), compared byte for byte with
# `remotemedia batch`. Installs Ray into the given Python's environment
# (default: the virtualenv scripts/test.sh builds, with the package in it).
# scripts/test.sh runs it; alone: bash scripts/test_ray.sh [path/to/python]
set -euo pipefail
cd "$(dirname "$0")/.."
python="${1:-${CARGO_TARGET_DIR:-target}/py-ci-venv/bin/python}"
started=$SECONDS
"$python" -m pip install --quiet "ray[data]>=2.40"
echo "ray installed in $((SECONDS - started)) s"
# A hang (Ray waiting for resources it will never get) fails instead of stalling CI.
timeout 900 "$python" -m pytest -q tests/test_ray.py
echo "ray install and tests: $((SECONDS - started)) s"
