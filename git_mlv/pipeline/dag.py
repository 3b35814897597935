"""The stage graph: stage B depends on stage A when one of B's deps or param files is (inside) an output
of A, or contains one. Cycle detection and a deterministic topological order live here."""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from ..errors import MlvError
from .spec import Spec, SpecError, parse_param
from .template import TemplateError, references


class MissingDependency(MlvError):
    """A stage's dependency is not in the work tree and no stage makes it: data missing (exit 1),
    not a mistake in the spec."""


def _overlap(a: str, b: str) -> bool:
    return a == b or a.startswith(b + "/") or b.startswith(a + "/")


@dataclass
class Dag:
    """Edges between the stages of a spec (``upstream[b]`` = stages b needs first)."""

    names: list[str]
    upstream: dict[str, set[str]] = field(default_factory=dict)
    downstream: dict[str, set[str]] = field(default_factory=dict)

    def order(self, subset: Iterable[str] | None = None) -> list[str]:
        """The stages (all, or ``subset``) so that each comes after its upstream; ties by name."""
        keep = set(self.names if subset is None else subset)
        indeg = {n: len(self.upstream[n] & keep) for n in keep}
        ready = [n for n, d in indeg.items() if d == 0]
        heapq.heapify(ready)
        out: list[str] = []
        while ready:
            n = heapq.heappop(ready)
            out.append(n)
            for m in self.downstream[n]:
                if m in keep:
                    indeg[m] -= 1
                    if indeg[m] == 0:
                        heapq.heappush(ready, m)
        if len(out) != len(keep):
            raise SpecError(f"stages form a cycle: {' -> '.join(self._cycle(keep - set(out)))}")
        return out

    def _cycle(self, left: set[str]) -> list[str]:
        # Walk upstream edges inside the leftover nodes until a node repeats: that loop is a cycle.
        path: list[str] = []
        n = min(left)
        while n not in path:
            path.append(n)
            n = min(self.upstream[n] & left)
        loop = path[path.index(n):] + [n]
        return list(reversed(loop))

    def ancestors(self, name: str) -> set[str]:
        """Every stage ``name`` needs, directly or not."""
        return self._reach(name, self.upstream)

    def descendants(self, name: str) -> set[str]:
        """Every stage that needs ``name``, directly or not."""
        return self._reach(name, self.downstream)

    @staticmethod
    def _reach(name: str, edges: dict[str, set[str]]) -> set[str]:
        seen: set[str] = set()
        todo = list(edges[name])
        while todo:
            n = todo.pop()
            if n not in seen:
                seen.add(n)
                todo.extend(edges[n])
        return seen

    def select(self, targets: list[str] | None, single: bool = False) -> list[str]:
        """Stages to consider for ``targets`` (all when empty): each target and, unless ``single``,
        everything it needs; in topological order. SpecError for an unknown name."""
        if not targets:
            return self.order()
        chosen: set[str] = set()
        for t in targets:
            if t not in self.upstream:
                known = ", ".join(self.names) or "none defined"
                raise SpecError(f"unknown stage {t!r} (stages: {known})")
            chosen.add(t)
            if not single:
                chosen |= self.ancestors(t)
        return self.order(chosen)

    def edges(self) -> list[tuple[str, str]]:
        """(upstream, downstream) pairs, sorted."""
        return sorted((a, b) for b, ups in self.upstream.items() for a in ups)


def build(spec: Spec) -> Dag:
    """The graph of ``spec``; SpecError naming the stages of a cycle."""
    names = sorted(spec.stages)
    dag = Dag(names, {n: set() for n in names}, {n: set() for n in names})
    outs = [(o, st.name) for st in spec.stages.values() for o in st.all_outs]
    for st in spec.stages.values():
        inputs = [*st.deps, *{parse_param(p)[0] for p in st.all_params}]
        for d in inputs:
            for o, owner in outs:
                if owner != st.name and _overlap(d, o):
                    dag.upstream[st.name].add(owner)
                    dag.downstream[owner].add(st.name)
    dag.order()  # raises on a cycle
    return dag


def check_deps(spec: Spec, dag: Dag, names: Iterable[str], exists: Callable[[str], bool]) -> None:
    """MissingDependency for a dep (or param file) of ``names`` that does not exist and no stage
    outputs."""
    for name in names:
        st = spec.stages[name]
        param_files = sorted({parse_param(p)[0] for p in st.all_params} - set(st.deps))
        for d, what in [*((d, "dependency") for d in st.deps), *((f, "parameter file") for f in param_files)]:
            if not exists(d) and spec.owner_of(d) is None and not any(
                o.startswith(d + "/") for s in spec.stages.values() for o in s.all_outs
            ):
                declared = {parse_param(p)[0] for p in st.params}
                refs = [shown for shown, e in _references(st.cmd) if parse_param(e)[0] == d]
                if refs and d not in declared and d not in st.deps:  # only cmd's ${...} name it
                    raise MissingDependency(
                        f"stage {name!r}: {refs[0]} in its cmd reads {d!r}, which does not exist and no "
                        f"stage outputs it (for the shell's own variable, write \\{refs[0]})")
                raise MissingDependency(
                    f"stage {name!r}: {what} {d!r} does not exist and no stage outputs it"
                )


def _references(cmd: str) -> list[tuple[str, str]]:
    try:
        return references(cmd)
    except TemplateError:  # validation names it
        return []
