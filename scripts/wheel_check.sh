#!/usr/bin/env bash
# Builds the release wheel as it would be shipped (manylinux2014, linked by
# zig from PyPI's ziglang: no container), installs it into a fresh
# virtualenv and runs the quickstart and the `remotemedia` command there.
# The wheel is abi3 (CPython's stable ABI from 3.10 on): one wheel for every
# CPython version, which its tag must say.
# Usage: scripts/wheel_check.sh PYTHON  (a Python with maturin and ziglang)
set -euo pipefail
cd "$(dirname "$0")/.."
python="$(realpath -s "$1")"
# maturin finds zig as `python -m ziglang` with the first python on PATH.
export PATH="$(dirname "$python"):$PATH"
root="$(pwd)"
target="$(realpath -m "${CARGO_TARGET_DIR:-target}")"
out="$target/wheels-check"
rm -rf "$out" "$target/wheel-venv"
"$python" -m maturin build --release --zig --compatibility manylinux2014 -i "$python" -o "$out"
wheel=$(ls "$out"/remotemedia-*.whl)
echo "built $(basename "$wheel") ($(du -h "$wheel" | cut -f1))"
case "$(basename "$wheel")" in
  *-cp310-abi3-manylinux*) ;;
  *) echo "expected a cp310-abi3 manylinux wheel" >&2; exit 1 ;;
esac
python3 -m venv "$target/wheel-venv"
"$target/wheel-venv/bin/python" -m pip install --quiet "$wheel"
# Outside the source tree, so that the installed package is the one imported.
(cd "$out" && "$target/wheel-venv/bin/python" "$root/examples/quickstart.py")
"$target/wheel-venv/bin/remotemedia" validate examples/speech_prep.json
