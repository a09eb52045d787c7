#!/usr/bin/env bash
# Runs every check and test of the project: formatting, lints, the Rust test
# suites, and the Python package's tests against a fresh build of it.
# Needs only a Rust toolchain and python3; installs what else it needs.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== rust: fmt, clippy"
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings

echo "== rust: tests"
cargo test --workspace --locked
