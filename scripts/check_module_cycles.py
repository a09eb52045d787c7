#!/usr/bin/env python3
"""Fails if the Rust modules of any crate in the workspace import each other in a cycle.

A file depends on another when it names an item defined there: through a `use`
(followed through re-exports to the file that defines the item) or a path in the
code (`super::halfband::DELAY`, `crate::registry::Registry`, `features::NUM_FEATURES`).
Declaring a child module (`mod x;`) is ownership, not a dependency; a child naming an
item of its parent (`super::X`) and the parent naming one of the child's is a cycle like
any other. Comments, doc links and string literals are ignored. Every crate root is
checked: `src/lib.rs`, `src/main.rs`, and each file of `tests/` and `benches/`.

Usage: python3 scripts/check_module_cycles.py [repo root]; prints the cycles found
(each as the files of one strongly connected component) and exits 1 if there are any.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
ITEM_KEYWORDS = {"fn", "struct", "enum", "const", "static", "type", "trait", "union"}


def tokens(src: str) -> list[str]:
    """Identifiers, `::` and single punctuation characters, without comments and literals."""
    out: list[str] = []
    i, n = 0, len(src)
    while i < n:
        c = src[i]
        if c.isspace():
            i += 1
        elif src.startswith("//", i):
            j = src.find("\n", i)
            i = n if j < 0 else j
        elif src.startswith("/*", i):
            depth, i = 1, i + 2
            while i < n and depth:
                if src.startswith("/*", i):
                    depth, i = depth + 1, i + 2
                elif src.startswith("*/", i):
                    depth, i = depth - 1, i + 2
                else:
                    i += 1
        elif (m := re.compile(r'b?r(#*)"').match(src, i)) and (i == 0 or not src[i - 1].isalnum()):
            end = '"' + m.group(1)
            j = src.find(end, m.end())
            i = n if j < 0 else j + len(end)
            out.append('""')
        elif c == '"' or (c == "b" and src.startswith('b"', i)):
            i += 2 if c == "b" else 1
            while i < n and src[i] != '"':
                i += 2 if src[i] == "\\" else 1
            i += 1
            out.append('""')
        elif c == "'":
            # A char literal ('a', '\n', '\u{1F600}') or a lifetime ('a).
            if m := re.compile(r"'(\\(u\{[0-9a-fA-F]+\}|x[0-9a-fA-F]{2}|.)|[^\\'])'").match(src, i):
                i = m.end()
                out.append("''")
            else:
                m = IDENT.match(src, i + 1)
                i = m.end() if m else i + 1
        elif m := IDENT.match(src, i):
            out.append(m.group())
            i = m.end()
        elif src.startswith("::", i):
            out.append("::")
            i += 2
        else:
            out.append(c)
            i += 1
    return out


@dataclass
class Module:
    path: tuple[str, ...]
    file: Path
    defs: set[str] = field(default_factory=set)
    children: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # name -> the path its `use` names, resolved from this module
    imports: dict[str, list[str]] = field(default_factory=dict)
    globs: list[list[str]] = field(default_factory=list)
    # paths named in the code, to resolve once every module is known
    refs: list[list[str]] = field(default_factory=list)


def parse_use_tree(toks: list[str], i: int, prefix: list[str], out: list[tuple[list[str], str | None]]) -> int:
    """Parses one use tree at toks[i]; appends (path, alias) pairs (alias '*' for a glob)."""
    path = list(prefix)
    while i < len(toks):
        t = toks[i]
        if t == "{":
            i += 1
            while toks[i] != "}":
                i = parse_use_tree(toks, i, path, out)
                if toks[i] == ",":
                    i += 1
            return i + 1
        if t == "*":
            out.append((path, "*"))
            return i + 1
        if IDENT.fullmatch(t):
            path.append(t)
            i += 1
            if i < len(toks) and toks[i] == "::":
                i += 1
                continue
            alias = None
            if i < len(toks) and toks[i] == "as":
                alias = toks[i + 1]
                i += 2
            out.append((path, alias))
            return i
        return i + 1
    return i


class Crate:
    def __init__(self, root: Path):
        self.modules: dict[tuple[str, ...], Module] = {}
        # A crate root's `mod x;` is found beside it, like a `mod.rs` file's.
        self.load(root, (), is_dir_owner=True)

    def load(self, file: Path, path: tuple[str, ...], is_dir_owner: bool) -> None:
        toks = tokens(file.read_text())
        # Each scope: (module path, brace depth at which it closes)
        self.modules[path] = Module(path, file)
        stack: list[tuple[tuple[str, ...], int]] = [(path, -1)]
        depth = 0
        i = 0
        while i < len(toks):
            t = toks[i]
            mod = self.modules[stack[-1][0]]
            prev = toks[i - 1] if i else ""
            if t == "{":
                depth += 1
            elif t == "}":
                depth -= 1
                if stack[-1][1] == depth:
                    stack.pop()
            elif t == "mod" and prev != "::" and i + 2 < len(toks) and IDENT.fullmatch(toks[i + 1]):
                name = toks[i + 1]
                child = (*mod.path, name)
                mod.children[name] = child
                if toks[i + 2] == "{":
                    self.modules[child] = Module(child, file)
                    stack.append((child, depth))
                    depth += 1
                    i += 3
                    continue
                if toks[i + 2] == ";":
                    base = file.parent if is_dir_owner else file.parent / file.stem
                    for cand, owner in ((base / f"{name}.rs", False), (base / name / "mod.rs", True)):
                        if cand.exists():
                            self.load(cand, child, owner)
                            break
                    else:
                        raise SystemExit(f"{file}: module {name} has no file")
            elif t in ITEM_KEYWORDS and prev != "::" and i + 1 < len(toks) and IDENT.fullmatch(toks[i + 1]):
                mod.defs.add(toks[i + 1])
            elif t == "macro_rules" and i + 2 < len(toks) and toks[i + 1] == "!":
                mod.defs.add(toks[i + 2])
            elif t == "use" and prev != "::":
                entries: list[tuple[list[str], str | None]] = []
                j = parse_use_tree(toks, i + 1, [], entries)
                for p, alias in entries:
                    if alias == "*":
                        mod.globs.append(p)
                        mod.refs.append([*p, "*"])
                        continue
                    if p[-1] == "self":
                        p = p[:-1]
                    name = alias or p[-1]
                    if name != "_":
                        mod.imports[name] = p
                    mod.refs.append(p)
                while j < len(toks) and toks[j] != ";":
                    j += 1
                i = j + 1
                continue
            elif IDENT.fullmatch(t) and prev != "::" and i + 2 < len(toks) and toks[i + 1] == "::" and t[0].islower():
                p = [t]
                j = i + 1
                while j + 1 < len(toks) and toks[j] == "::" and IDENT.fullmatch(toks[j + 1]):
                    p.append(toks[j + 1])
                    j += 2
                if len(p) > 1:
                    mod.refs.append(p)
                i = j
                continue
            i += 1

    def resolve(
        self, scope: tuple[str, ...], segs: list[str], seen: frozenset = frozenset()
    ) -> tuple[str, object] | None:
        """('mod', path) or ('file', Path) for the item `segs` names from `scope`, None if outside the crate."""
        key = (scope, tuple(segs))
        if key in seen:
            return None
        seen = seen | {key}
        cur = scope
        i = 0
        if segs[0] == "crate":
            cur, i = (), 1
        elif segs[0] in ("super", "self"):
            while i < len(segs) and segs[i] in ("super", "self"):
                if segs[i] == "super":
                    cur = cur[:-1]
                i += 1
        elif segs[0] not in self.modules[scope].children and segs[0] not in self.modules[scope].imports:
            # Inline modules (tests) see their parent's names through `use super::*`.
            if any(g == ["super"] for g in self.modules[scope].globs) and scope:
                return self.resolve(scope[:-1], segs, seen)
            return None
        while i < len(segs):
            s = segs[i]
            m = self.modules[cur]
            if s == "*":
                return ("file", m.file) if m.defs else ("mod", cur)
            if s in m.children:
                cur = m.children[s]
            elif s in m.defs:
                return ("file", m.file)
            elif s in m.imports:
                r = self.resolve(cur, m.imports[s], seen)
                if r is None or r[0] == "file":
                    return r
                cur = r[1]  # type: ignore[assignment]
            else:
                for g in m.globs:
                    r = self.resolve(cur, [*g, s], seen) if g[-1:] != ["super"] else None
                    if r is not None:
                        return r
                return None
            i += 1
        return ("mod", cur)

    def edges(self) -> dict[Path, set[Path]]:
        graph: dict[Path, set[Path]] = {m.file: set() for m in self.modules.values()}
        for m in self.modules.values():
            for ref in m.refs:
                r = self.resolve(m.path, ref)
                if r is not None and r[0] == "file" and r[1] != m.file:
                    graph[m.file].add(r[1])  # type: ignore[arg-type]
        return graph


def cycles(graph: dict[Path, set[Path]]) -> list[list[Path]]:
    """Strongly connected components of more than one file (Tarjan)."""
    index: dict[Path, int] = {}
    low: dict[Path, int] = {}
    on: set[Path] = set()
    stack: list[Path] = []
    found: list[list[Path]] = []

    def visit(v: Path) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def main() -> int:
    repo = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).resolve().parent.parent)
    roots = []
    for crate in sorted((repo / "crates").iterdir()):
        roots += [p for p in (crate / "src" / "lib.rs", crate / "src" / "main.rs") if p.exists()]
        for sub in ("tests", "benches", "examples"):
            roots += sorted((crate / sub).glob("*.rs"))
    bad = 0
    files = 0
    for root in roots:
        graph = Crate(root).edges()
        files += len(graph)
        for comp in cycles(graph):
            bad += 1
            print(f"cycle in {root.relative_to(repo)}:")
            for f in comp:
                deps = sorted(str(d.relative_to(repo)) for d in graph[f] if d in comp)
                print(f"  {f.relative_to(repo)} -> {', '.join(deps)}")
    print(f"module cycles: {bad} in {len(roots)} crate roots ({files} module files)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
