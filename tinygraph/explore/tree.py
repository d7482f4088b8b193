"""The boxes of the explorer: module and composite calls (from the recorded scopes) and folded repeats.

Every drawn thing is a *key*: ``0 .. n-1`` are the recorded nodes (the items of the fully opened
view, in its topological order), keys from ``n`` on are boxes. A box is an ``nn.Module`` call
(``"module"``, named ``conv1: Conv2d``; the outermost model by its class) or a composite call
(``"composite"``), one per :class:`~tinygraph._state.ScopeFrame`, or a fold of what repeats
(``"repeat"``): a run of calls of the same op or composite, each feeding the next (RNN time steps,
a long chain of ``tanh``), numbered in order, and, where one level would still show more than
``budget`` boxes, consecutive slices of it. Boxes nest; every key has one parent box or None.
Opening a box shows its children, so a fold is opened like a composite.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from dataclasses import dataclass, field

from tinygraph._state import ScopeFrame

#: A run of at least this many calls of the same op or composite, each feeding the next, is folded.
MIN_RUN = 4
#: At most this many boxes at one level of one box (folds are sliced further when longer).
BUDGET = 120


@dataclass
class TreeBox:
    """One box: a module call, a composite call or a fold.

    Attributes
    ----------
    kind : "module", "composite" or "repeat".
    name : the frame's name (``conv1: Conv2d``, ``conv2d``), or a fold's title (``rnn_cell ×50``).
    op : the composite's name, the module's class (``Conv2d``), None for folds.
    parent : key of the enclosing box, or None.
    count : for a fold, how many repeated units it holds.
    """

    kind: str
    name: str
    op: str | None
    parent: int | None
    count: int = 0


@dataclass
class Tree:
    """Boxes and who contains whom.

    Attributes
    ----------
    n : the number of recorded nodes (keys below ``n``).
    boxes : the boxes; box ``b`` has key ``n + b``.
    parent : the parent key (None at top level) of every key, nodes then boxes.
    position : key -> its number (1-based) in the run of a fold.
    """

    n: int
    boxes: list[TreeBox]
    parent: list[int | None]
    position: dict[int, int] = field(default_factory=dict)

    def add_box(self, box: TreeBox) -> int:
        self.boxes.append(box)
        self.parent.append(box.parent)
        return self.n + len(self.boxes) - 1

    def chain(self, key: int) -> list[int]:
        """The keys from the outermost box down to ``key`` itself."""
        out = [key]
        p = self.parent[key]
        while p is not None:
            out.append(p)
            p = self.parent[p]
        out.reverse()
        return out


def build_tree(
    scopes: Sequence[tuple[ScopeFrame, ...] | None],
    top_level: Sequence[bool],
    signatures: Sequence[str | None],
    edges: Sequence[tuple[int, int]],
    budget: int = BUDGET,
) -> Tree:
    """The box tree of a graph.

    Parameters
    ----------
    scopes : per recorded node, the module and composite calls it was made inside (outermost first).
    top_level : per node, whether it is drawn outside every box whatever its scope (parameters).
    signatures : per node, its op name, or None for leaves.
    edges : the recorded edges as ``(parent node, child node)``.
    budget : the most boxes shown at one level before consecutive slices are folded.
    """
    n = len(scopes)
    tree = Tree(n, [], [None] * n)
    box_of: dict[int, int] = {}
    for i, scope in enumerate(scopes):
        if not scope or top_level[i]:
            continue
        parent = None
        for frame in scope:
            key = box_of.get(id(frame))
            if key is None:
                box = TreeBox(frame.kind, frame.name, _box_op(frame), parent)
                key = box_of[id(frame)] = tree.add_box(box)
            parent = key
        tree.parent[i] = parent

    first = list(range(n)) + [n] * len(tree.boxes)  # the first node in each key, for ordering
    for i in range(n - 1, -1, -1):
        p = tree.parent[i]
        while p is not None and first[p] > i:
            first[p] = i
            p = tree.parent[p]
    sig: list[str | None] = list(signatures) + [b.name for b in tree.boxes]

    # The edges of each level: between the children of the box that contains both ends.
    levels: dict[int | None, set[tuple[int, int]]] = {}
    chains: dict[int, list[int]] = {}
    parent = tree.parent
    for s, d in edges:
        if parent[s] == parent[d]:  # the common case: both in the same box
            levels.setdefault(parent[s], set()).add((s, d))
            continue
        cs = chains.get(s) or chains.setdefault(s, tree.chain(s))
        cd = chains.get(d) or chains.setdefault(d, tree.chain(d))
        k = 0
        while k < len(cs) and k < len(cd) and cs[k] == cd[k]:
            k += 1
        if k < len(cs) and k < len(cd):
            levels.setdefault(cs[k - 1] if k else None, set()).add((cs[k], cd[k]))
    chains.clear()

    children: dict[int | None, list[int]] = {}
    for key, p in enumerate(tree.parent):
        children.setdefault(p, []).append(key)
    for group in list(children):
        pinned = {k for k in children[group] if k < n and top_level[k]}
        _fold_level(tree, group, children[group], levels.get(group, set()), sig, first, budget, pinned)
    return tree


def _box_op(frame: ScopeFrame) -> str:
    """A call's op: the composite's name, or the module's class (the part after ``": "``)."""
    return frame.name.rpartition(": ")[2] if frame.kind == "module" else frame.name


def _order(units: list[int], succ: dict[int, list[int]], first: list[int]) -> list[int]:
    """A topological order of one level (Kahn), earliest recorded first."""
    indegree = dict.fromkeys(units, 0)
    for u in units:
        for v in succ.get(u, ()):
            indegree[v] += 1
    ready = [(first[u], u) for u in units if indegree[u] == 0]
    heapq.heapify(ready)
    out = []
    while ready:
        _, u = heapq.heappop(ready)
        out.append(u)
        for v in succ.get(u, ()):
            indegree[v] -= 1
            if indegree[v] == 0:
                heapq.heappush(ready, (first[v], v))
    if len(out) < len(units):
        placed = set(out)
        out += sorted((u for u in units if u not in placed), key=lambda u: first[u])
    return out


def _closes_cycle(members: set[int], succ: dict[int, list[int]], rank: dict[int, int]) -> bool:
    """Whether some path leaves ``members`` and comes back (folding them would make a cycle)."""
    last = max(rank[m] for m in members)
    stack = [v for m in members for v in succ.get(m, ()) if v not in members and rank[v] < last]
    seen = set(stack)
    while stack:
        u = stack.pop()
        for v in succ.get(u, ()):
            if v in members:
                return True
            if v not in seen and rank[v] < last:
                seen.add(v)
                stack.append(v)
    return False


def _fold_level(
    tree: Tree,
    group: int | None,
    units: list[int],
    level_edges: set[tuple[int, int]],
    sig: list[str | None],
    first: list[int],
    budget: int,
    pinned: set[int],
) -> None:
    """Fold the runs among ``units`` (the children of ``group``); ``pinned`` ones (parameters) stay out."""
    succ: dict[int, list[int]] = {}
    pred: dict[int, list[int]] = {}
    for s, d in level_edges:
        succ.setdefault(s, []).append(d)
        pred.setdefault(d, []).append(s)
    for lst in succ.values():
        lst.sort(key=lambda u: first[u])
    order = _order(units, succ, first)
    rank = {u: k for k, u in enumerate(order)}
    taken: set[int] = set()
    shown = list(order)
    for u in order:
        name = sig[u]
        if u in taken or name is None:
            continue
        run, cur, in_run = [u], u, {u}
        while True:
            same = (v for v in succ.get(cur, ()) if sig[v] == name and v not in taken and v not in in_run)
            nxt = next(same, None)
            if nxt is None:
                break
            run.append(nxt)
            in_run.add(nxt)
            cur = nxt
        if len(run) < MIN_RUN:
            continue
        members = set(run)
        # What feeds one unit of the run only goes in with it (a step's constant, its slice of the input).
        owned: dict[int, list[int]] = {}
        for m in run:
            for p in pred.get(m, ()):
                if p not in members and p not in taken and p not in pinned and succ.get(p, ()) == [m]:
                    owned.setdefault(m, []).append(p)
        candidate = members | {p for ps in owned.values() for p in ps}
        if _closes_cycle(candidate, succ, rank):
            continue
        taken |= candidate
        units_in_order = [[m, *sorted(set(owned.get(m, ())), key=lambda k: rank[k])] for m in run]
        for k, m in enumerate(run, 1):
            tree.position[m] = k
        fold = tree.add_box(TreeBox("repeat", f"{name} ×{len(run)}", None, group, len(run)))
        _slice(tree, fold, units_in_order, name, budget)
        rank[fold] = rank[run[0]]  # the fold stands where its first unit stood
        shown = [x for x in shown if x not in candidate]
        shown.append(fold)
    if len(shown) > budget:
        _slice(tree, group, [[u] for u in sorted(shown, key=rank.__getitem__)], None, budget)


def _slice(tree: Tree, parent: int | None, units: list[list[int]], name: str | None, budget: int) -> None:
    """Put ``units`` (each a list of keys kept together) under ``parent``, in slices of at most ``budget``."""
    stack = [(parent, units, 0)]
    while stack:
        box, group, offset = stack.pop()
        if len(group) <= budget:
            for unit in group:
                for key in unit:
                    tree.parent[key] = box
            continue
        size = budget  # slices of budget**k units: full slices all the way down, none of 1 or 2
        while size * budget < len(group):
            size *= budget
        for start in range(0, len(group), size):
            part = group[start : start + size]
            lo, hi = offset + start + 1, offset + start + len(part)
            title = f"{name} {lo}–{hi}" if name else f"nodes {lo}–{hi}"
            sub = tree.add_box(TreeBox("repeat", title, None, box, len(part)))
            stack.append((sub, part, offset + start))
