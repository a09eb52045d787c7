"""Checks that no locked dependency needs a newer Rust than the workspace's
`rust-version` (only one toolchain is installed, so the MSRV cannot be
checked by building with it; clippy's `incompatible_msrv` covers our own use
of std APIs). Exits 1 listing each dependency that needs more."""

from __future__ import annotations

import json
import subprocess
import sys


def version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split("."))


def main() -> int:
    meta = json.loads(
        subprocess.run(
            ["cargo", "metadata", "--format-version", "1", "--locked"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    )
    members = set(meta["workspace_members"])
    ours = {p["rust_version"] for p in meta["packages"] if p["id"] in members}
    if len(ours) != 1 or None in ours:
        print(f"workspace members disagree on rust-version: {sorted(map(str, ours))}")
        return 1
    msrv = ours.pop()
    newer = [
        f"{p['name']} {p['version']} needs Rust {p['rust_version']}"
        for p in meta["packages"]
        if p["rust_version"] and version(p["rust_version"]) > version(msrv)
    ]
    for line in newer:
        print(line)
    print(f"rust-version {msrv}: {len(meta['packages'])} packages checked, {len(newer)} need a newer Rust")
    return 1 if newer else 0


if __name__ == "__main__":
    sys.exit(main())
