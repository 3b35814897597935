"""``git mlv dag``: show the pipeline graph (text, Graphviz dot, or JSON)."""

from __future__ import annotations

from typing import Any


def register(sub: Any) -> None:
    """Add the ``dag`` verb."""
    p = sub.add_parser(
        "dag", help="show the pipeline graph",
        description="Show the stages by level: a stage's level is one more than the highest level of "
                    "the stages it needs, so stages of one level can run at the same time (-j).",
    )
    fmt = p.add_mutually_exclusive_group()
    fmt.add_argument("--dot", action="store_true", help="print Graphviz dot")
    fmt.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=run)


def levels(order: list[str], edges: list[tuple[str, str]]) -> dict[str, int]:
    """Each stage's level: 0 for stages that need none, else 1 + the highest level they need."""
    ups: dict[str, list[str]] = {n: [] for n in order}
    for a, b in edges:
        ups[b].append(a)
    level: dict[str, int] = {}
    for n in order:
        level[n] = 1 + max((level[u] for u in ups[n]), default=-1)
    return level


def render_text(order: list[str], edges: list[tuple[str, str]]) -> list[str]:
    """``level N  stage  <- upstream, ...`` lines."""
    if not order:
        return ["(no stages: define one with `git mlv run` or `git mlv stage add`)"]
    level = levels(order, edges)
    ups: dict[str, list[str]] = {n: [] for n in order}
    for a, b in edges:
        ups[b].append(a)
    width = max(len(n) for n in order)
    lines = []
    last = -1
    for n in sorted(order, key=lambda s: (level[s], order.index(s))):
        head = f"level {level[n]}" if level[n] != last else ""
        last = level[n]
        tail = f"  <- {', '.join(sorted(ups[n]))}" if ups[n] else ""
        lines.append(f"{head:<9}{n:<{width}}{tail}".rstrip())
    return lines


def render_dot(order: list[str], edges: list[tuple[str, str]]) -> list[str]:
    """A Graphviz digraph."""
    def q(s: str) -> str:
        return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'

    lines = ["digraph pipeline {", "  rankdir=TB;", "  node [shape=box];"]
    lines += [f"  {q(n)};" for n in order]
    lines += [f"  {q(a)} -> {q(b)};" for a, b in edges]
    return lines + ["}"]


def run(args: Any) -> int:
    """Print the graph."""
    from ..ops import pipeline
    from ..ops.context import Workspace
    from .render import print_json

    with Workspace.discover() as ws:
        view = pipeline.dag(ws)
    if args.json:
        print_json({"stages": view.order, "edges": [list(e) for e in view.edges]})
        return 0
    lines = render_dot(view.order, view.edges) if args.dot else render_text(view.order, view.edges)
    print("\n".join(lines))
    return 0
