"""Layered (Sugiyama-style) graph layout, left to right, deterministic.

Contract: ``layered_layout(nodes, edges, widths, ...)`` -> ``Layout`` with a centre point per
node and a polyline per edge (from the source's right side to the target's left side, through
one bend point per layer crossed). Same input, same output: every choice is ordered by name.

Steps, the classic ones (Sugiyama, Tagawa and Toda 1981):
1. cycles are broken by reversing the back edges of a depth-first search (the edge is still drawn
   from its source to its target, it just runs right to left);
2. layers by longest path from the sources, so every call goes one or more layers right;
3. edges that skip layers get a dummy node in each layer they cross;
4. crossings are reduced by barycentre sweeps (down and up), keeping the best order seen;
5. vertical positions: each node is pulled to the mean of its neighbours, then order and spacing
   are restored with the pool-adjacent-violators algorithm (the least-squares optimum for a fixed
   order), a few rounds.
Self-loops are left to the caller (they have no layer to cross).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field

NODE_HEIGHT = 44.0
NODE_GAP = 18.0
LAYER_GAP = 200.0
MARGIN = 24.0


@dataclass
class Layout:
    positions: dict[str, tuple[float, float]]  # node -> centre
    paths: dict[tuple[str, str], list[tuple[float, float]]]  # edge -> points
    width: float
    height: float
    layers: list[list[str]] = field(default_factory=list)
    reversed_edges: set[tuple[str, str]] = field(default_factory=set)
    crossings: int = 0


def layered_layout(
    nodes: Sequence[str],
    edges: Sequence[tuple[str, str]],
    widths: dict[str, float],
    *,
    node_height: float = NODE_HEIGHT,
    node_gap: float = NODE_GAP,
    layer_gap: float = LAYER_GAP,
) -> Layout:
    names = sorted(set(nodes) | {n for edge in edges for n in edge})
    pairs = sorted({(a, b) for a, b in edges if a != b})
    out: dict[str, list[str]] = {n: [] for n in names}
    for a, b in pairs:
        out[a].append(b)

    back = _back_edges(names, out)
    dag = sorted({(b, a) if (a, b) in back else (a, b) for a, b in pairs})
    layer = _longest_path_layers(names, dag)

    # dummy chains: each DAG edge becomes unit-length links
    chains: dict[tuple[str, str], list[str]] = {}
    links: list[tuple[str, str]] = []
    for a, b in dag:
        chain = [a]
        for step in range(layer[a] + 1, layer[b]):
            dummy = f"\0{a}\0{b}\0{step}"
            layer[dummy] = step
            chain.append(dummy)
        chain.append(b)
        chains[(a, b)] = chain
        links.extend(itertools.pairwise(chain))

    count = max(layer.values(), default=0) + 1
    layers: list[list[str]] = [[] for _ in range(count)]
    for node in sorted(layer, key=lambda n: (layer[n], n.startswith("\0"), n)):
        layers[layer[node]].append(node)
    ups: dict[str, list[str]] = {n: [] for n in layer}
    downs: dict[str, list[str]] = {n: [] for n in layer}
    for a, b in links:
        downs[a].append(b)
        ups[b].append(a)
    crossings = _order(layers, ups, downs)

    size = {n: (node_height if not n.startswith("\0") else 2.0) for n in layer}
    y = _place(layers, ups, downs, size, node_gap)
    column_width = [max((widths.get(n, 0.0) for n in lay), default=0.0) for lay in layers]
    x_left: list[float] = []
    cursor = MARGIN
    for w in column_width:
        x_left.append(cursor)
        cursor += w + layer_gap
    width = cursor - layer_gap + MARGIN
    positions: dict[str, tuple[float, float]] = {}
    for index, lay in enumerate(layers):
        for node in lay:
            positions[node] = (x_left[index] + column_width[index] / 2, y[node])
    height = max((y[n] + size[n] / 2 for n in y), default=0.0) + MARGIN

    paths: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for a, b in pairs:
        reverse = (a, b) in back
        chain = chains[(b, a)] if reverse else chains[(a, b)]
        points = [positions[n] for n in chain]
        head, tail = chain[0], chain[-1]
        points[0] = (points[0][0] + widths.get(head, 0.0) / 2, points[0][1])
        points[-1] = (points[-1][0] - widths.get(tail, 0.0) / 2, points[-1][1])
        paths[(a, b)] = list(reversed(points)) if reverse else points
    real = {n: positions[n] for n in names}
    return Layout(
        real,
        paths,
        width,
        height,
        [[n for n in lay if not n.startswith("\0")] for lay in layers],
        back,
        crossings,
    )


def _back_edges(names: list[str], out: dict[str, list[str]]) -> set[tuple[str, str]]:
    """Edges that close a cycle in a depth-first search from each unvisited node, in name order.
    Sources are searched first so the natural flow (callers on the left) is kept."""
    indegree = {n: 0 for n in names}
    for targets in out.values():
        for b in targets:
            indegree[b] += 1
    state: dict[str, int] = {}
    back: set[tuple[str, str]] = set()
    for start in sorted(names, key=lambda n: (indegree[n] > 0, n)):
        if start in state:
            continue
        state[start] = 1
        stack = [(start, iter(sorted(out[start])))]
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                state[node] = 2
                stack.pop()
            elif state.get(child) == 1:
                back.add((node, child))
            elif child not in state:
                state[child] = 1
                stack.append((child, iter(sorted(out[child]))))
    return back


def _longest_path_layers(names: list[str], dag: list[tuple[str, str]]) -> dict[str, int]:
    preds: dict[str, list[str]] = {n: [] for n in names}
    succs: dict[str, list[str]] = {n: [] for n in names}
    for a, b in dag:
        preds[b].append(a)
        succs[a].append(b)
    remaining = {n: len(preds[n]) for n in names}
    ready = sorted(n for n in names if remaining[n] == 0)
    layer = {n: 0 for n in names}
    while ready:
        node = ready.pop(0)
        for b in succs[node]:
            layer[b] = max(layer[b], layer[node] + 1)
            remaining[b] -= 1
            if remaining[b] == 0:
                ready.append(b)
    return layer


def _crossings(layers: list[list[str]], downs: dict[str, list[str]]) -> int:
    total = 0
    for upper, lower in itertools.pairwise(layers):
        position = {n: i for i, n in enumerate(lower)}
        segments = [(i, position[b]) for i, a in enumerate(upper) for b in downs[a]]
        segments.sort()
        # count inversions of the lower ends (segments sharing an end do not cross)
        for k, (a1, b1) in enumerate(segments):
            for a2, b2 in segments[k + 1 :]:
                if a2 > a1 and b2 < b1:
                    total += 1
    return total


def _order(layers: list[list[str]], ups: dict[str, list[str]], downs: dict[str, list[str]]) -> int:
    best = [list(lay) for lay in layers]
    best_crossings = _crossings(layers, downs)
    for round_ in range(12):
        downward = round_ % 2 == 0
        indexes = range(1, len(layers)) if downward else range(len(layers) - 2, -1, -1)
        for i in indexes:
            ref = layers[i - 1] if downward else layers[i + 1]
            position = {n: k for k, n in enumerate(ref)}
            neighbours = ups if downward else downs
            current = {n: k for k, n in enumerate(layers[i])}

            def key(node: str, position=position, neighbours=neighbours, current=current):
                linked = [position[m] for m in neighbours[node] if m in position]
                centre = sum(linked) / len(linked) if linked else current[node]
                return (centre, current[node])

            layers[i].sort(key=key)
        crossings = _crossings(layers, downs)
        if crossings < best_crossings:
            best_crossings = crossings
            best = [list(lay) for lay in layers]
        if best_crossings == 0:
            break
    layers[:] = best
    return best_crossings


def _place(
    layers: list[list[str]],
    ups: dict[str, list[str]],
    downs: dict[str, list[str]],
    size: dict[str, float],
    gap: float,
) -> dict[str, float]:
    y: dict[str, float] = {}
    tallest = max((sum(size[n] + gap for n in lay) for lay in layers), default=0.0)
    for lay in layers:  # start centred on the tallest layer
        total = sum(size[n] + gap for n in lay)
        cursor = MARGIN + (tallest - total) / 2
        for node in lay:
            y[node] = cursor + size[node] / 2
            cursor += size[node] + gap
    for _ in range(6):
        for lay in [*layers[1:], *reversed(layers[:-1])]:
            wanted = []
            for node in lay:
                linked = [y[m] for m in (*ups[node], *downs[node])]
                wanted.append(sum(linked) / len(linked) if linked else y[node])
            _fit_in_order(lay, wanted, size, gap, y)
    top = min(y[n] - size[n] / 2 for n in y) if y else 0.0
    return {n: value - top + MARGIN for n, value in y.items()}


def _fit_in_order(
    lay: list[str], wanted: list[float], size: dict[str, float], gap: float, y: dict[str, float]
) -> None:
    """Least-squares positions near ``wanted`` that keep ``lay``'s order and spacing (PAVA on
    the positions with the cumulative spacing taken out)."""
    offsets = [0.0]
    for a, b in itertools.pairwise(lay):
        offsets.append(offsets[-1] + size[a] / 2 + gap + size[b] / 2)
    blocks: list[tuple[float, float, int]] = []  # (mean, weight, count)
    for want, offset in zip(wanted, offsets, strict=True):
        blocks.append((want - offset, 1.0, 1))
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            m2, w2, c2 = blocks.pop()
            m1, w1, c1 = blocks.pop()
            blocks.append(((m1 * w1 + m2 * w2) / (w1 + w2), w1 + w2, c1 + c2))
    k = 0
    for mean, _weight, count in blocks:
        for _ in range(count):
            y[lay[k]] = mean + offsets[k]
            k += 1
