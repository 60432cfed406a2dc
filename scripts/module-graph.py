#!/usr/bin/env python3
"""The module graph of a crate, from its `crate::` paths: prints it bottom-up and fails
(exit 1) when the modules import each other in a circle.

    scripts/module-graph.py core/src        # the sans-IO core; CI runs it

A module is a file `name.rs` or a folder `name/` (its `mod.rs` and every file inside count
as the module `name`: a folder is one concept split into files). An edge `a -> b` is any
`crate::b` path in `a`'s code, `use` lines and full paths alike; comments and doc comments are
ignored. `lib.rs` is the root and not a module.
"""

import re
import sys
from pathlib import Path


def strip_comments(text: str) -> str:
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    return "\n".join(line.split("//", 1)[0] for line in text.splitlines())


def modules(src: Path) -> dict[str, list[Path]]:
    found: dict[str, list[Path]] = {}
    for path in sorted(src.iterdir()):
        if path.is_file() and path.suffix == ".rs" and path.name not in ("lib.rs", "main.rs"):
            found[path.stem] = [path]
        elif path.is_dir():
            found[path.name] = sorted(path.rglob("*.rs"))
    return found


def edges(src: Path) -> dict[str, set[str]]:
    mods = modules(src)
    graph: dict[str, set[str]] = {name: set() for name in mods}
    for name, files in mods.items():
        for file in files:
            code = strip_comments(file.read_text())
            for target in re.findall(r"\bcrate::([a-z_][a-z0-9_]*)", code):
                if target in mods and target != name:
                    graph[name].add(target)
            # `use crate::{a, b::c}` groups
            for group in re.findall(r"\bcrate::\{([^}]*)\}", code, flags=re.S):
                for target in re.findall(r"(?:^|,)\s*([a-z_][a-z0-9_]*)", group):
                    if target in mods and target != name:
                        graph[name].add(target)
    return graph


def cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def layers(graph: dict[str, set[str]]) -> list[list[str]]:
    level: dict[str, int] = {}

    def depth(node: str) -> int:
        if node not in level:
            level[node] = 0
            level[node] = 1 + max((depth(d) for d in graph[node]), default=-1)
        return level[node]

    for node in graph:
        depth(node)
    out: list[list[str]] = []
    for node, lvl in level.items():
        while len(out) <= lvl:
            out.append([])
        out[lvl].append(node)
    return [sorted(layer) for layer in out]


def main() -> int:
    src = Path(sys.argv[1] if len(sys.argv) > 1 else "core/src")
    graph = edges(src)
    found = cycle(graph)
    if found:
        print(f"{src}: the modules import each other in a circle: {' -> '.join(found)}")
        for name in sorted(graph):
            print(f"  {name} -> {', '.join(sorted(graph[name])) or '(nothing)'}")
        return 1
    print(f"{src}: {len(graph)} modules, no circle; bottom-up:")
    for i, layer in enumerate(layers(graph)):
        print(f"  {i}: " + "  ".join(f"{m} ({', '.join(sorted(graph[m]))})" if graph[m] else m for m in layer))
    return 0


if __name__ == "__main__":
    sys.exit(main())
