#!/usr/bin/env bash
# Runs every check and test of the project: formatting, lints, the Rust test
# suites, and the Python package's tests against a fresh build of it.
# Needs only a Rust toolchain and python3; installs what else it needs.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== tools: ffmpeg, sox, espeak-ng (the media and batch tests make their input with them)"
if ! command -v ffmpeg >/dev/null || ! command -v sox >/dev/null || ! command -v espeak-ng >/dev/null; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ffmpeg sox espeak-ng >/dev/null
fi

echo "== rust: fmt, clippy"
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
# The minimum Rust version: clippy's incompatible_msrv (denied in Cargo.toml)
# checked our std API use above; this checks every locked dependency's own.
python3 scripts/check_msrv.py
# No two modules of a crate import each other, directly or around a loop.
python3 scripts/check_module_cycles.py

echo "== rust: tests"
cargo test --workspace --locked

echo "== python: build"
# A fresh virtualenv under target/ (gitignored), rebuilt on every run, with
# only what the Python checks need; the package itself is built from this
# tree by maturin (`pip install .`, a release build of the extension).
venv="${CARGO_TARGET_DIR:-target}/py-ci-venv"
rm -rf "$venv"
python3 -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --upgrade pip
"$venv/bin/python" -m pip install --quiet "maturin>=1.9.4,<2" numpy pytest ruff pyyaml mypy types-PyYAML ziglang
"$venv/bin/python" -m pip install --quiet --no-build-isolation .

# After the wheel: its release build has already compiled the dependencies that
# the (identically configured) bench profile needs.
echo "== rust: instruction counts against bench/instructions/baseline.json"
bash scripts/check_instructions.sh

echo "== python: lint, tests"
"$venv/bin/ruff" check python tests bench/python examples bench/vad bench/media bench/corpora
"$venv/bin/ruff" format --check python tests bench/python examples bench/vad bench/media bench/corpora
"$venv/bin/mypy" python tests examples
"$venv/bin/python" -m pytest -q tests

echo "== python: Ray (installs ray, then tests/test_ray.py on a local cluster)"
bash scripts/test_ray.sh "$venv/bin/python"

echo "== wheel: manylinux2014 build, fresh-virtualenv install, quickstart"
bash scripts/wheel_check.sh "$venv/bin/python"
