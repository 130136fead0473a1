"""Naming nodes, looking up their calculators, and expanding subgraphs.

Node names follow MediaPipe: an unnamed node is named after its calculator, with `_<n>`
(1-based, in file order) when several unnamed nodes share a calculator. Unlike MediaPipe,
two nodes given the same explicit `name` are an error (OVMS requires unique names, and
errors are reported by name). Nodes a subgraph returns unnamed get `<parent>/<Calculator>`.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from ovserve.errors import ConfigError, NotFound, OvserveError
from ovserve.graph.calculator import Calculator, Subgraph
from ovserve.graph.context import ExpandContext
from ovserve.graph.node_check import ValidatedNode, check_node, node_label
from ovserve.graph.pb import CalculatorGraphConfig, NodeConfig
from ovserve.graph.ports import PortKind
from ovserve.graph.registry import CalculatorRegistry
from ovserve.graph.services import GraphServices

MAX_EXPANSION_DEPTH = 8


def assign_names(nodes: list[NodeConfig], where: Path, taken: set[str] | None = None) -> list[str]:
    """Unique names for `nodes` (see module doc); raises `ConfigError` on duplicate names."""
    taken = set() if taken is None else taken
    explicit: dict[str, int] = {}
    for i, node in enumerate(nodes):
        if node.name:
            if node.name in explicit or node.name in taken:
                raise ConfigError(f'{where}: duplicate node name "{node.name}" (node names must be unique)')
            explicit[node.name] = i
    taken |= set(explicit)
    unnamed = Counter(n.calculator for n in nodes if not n.name)
    seen: Counter[str] = Counter()
    names: list[str] = []
    for node in nodes:
        if node.name:
            names.append(node.name)
            continue
        seen[node.calculator] += 1
        base = node.calculator or "node"
        name = base if unnamed[node.calculator] == 1 else f"{base}_{seen[node.calculator]}"
        while name in taken:  # never collide with an explicit name
            name += "_"
        taken.add(name)
        names.append(name)
    return names


def expand_graph(
    config: CalculatorGraphConfig,
    *,
    registry: CalculatorRegistry,
    where: Path,
    base_path: Path,
    services: GraphServices | None = None,
) -> list[ValidatedNode]:
    """Check every node and replace subgraph nodes by their expansion, recursively.

    Raises:
        ConfigError: unknown calculator (lists the known names), contract mismatch,
            duplicate names, or an expansion that fails or recurses too deep.
    """
    nodes = list(config.node)
    names = assign_names(nodes, where)
    taken_streams = _all_port_names(config)
    out: list[ValidatedNode] = []
    work = [(node, name, name, 0) for node, name in zip(nodes, names, strict=True)]
    used_names = set(names)
    while work:
        node, name, origin, depth = work.pop(0)
        cls = _lookup(registry, node, name, where)
        checked = check_node(node, cls, name=name, where=where)
        options, options_type = checked.options, checked.options_type
        if issubclass(cls, Calculator):
            out.append(
                ValidatedNode(
                    name,
                    origin,
                    node.calculator,
                    cls,
                    node,
                    checked.ports,
                    options,
                    options_type,
                    batch_max_runs=checked.batch_max_runs,
                    batch_waits=checked.batch_waits,
                )
            )
            continue
        if depth >= MAX_EXPANSION_DEPTH:
            raise ConfigError(
                f"{node_label(where, name, node.calculator)}: subgraphs nest deeper than {depth}"
            )
        ec = ExpandContext(
            node_name=name,
            graph_path=where,
            base_path=base_path,
            options=options,
            options_type=options_type,
            taken_names=taken_streams,
            services=services,
        )
        try:
            children = cls.expand(node, ec)
        except OvserveError as exc:
            raise ConfigError(f"{node_label(where, name, node.calculator)}: {exc.message}") from exc
        child_names = _child_names(children, name, used_names, where)
        expanded = [(c, n, origin, depth + 1) for c, n in zip(children, child_names, strict=True)]
        work[0:0] = expanded  # keep file order: children take the parent's place
    return out


def _child_names(children: list[NodeConfig], parent: str, used: set[str], where: Path) -> list[str]:
    names: list[str] = []
    for child in children:
        base = child.name or f"{parent}/{child.calculator}"
        name, i = base, 1
        while name in used:
            if child.name:
                raise ConfigError(f'{where}: duplicate node name "{child.name}" (from subgraph "{parent}")')
            i += 1
            name = f"{base}_{i}"
        used.add(name)
        names.append(name)
    return names


def _lookup(
    registry: CalculatorRegistry, node: NodeConfig, name: str, where: Path
) -> type[Calculator] | type[Subgraph]:
    if not node.calculator:
        raise ConfigError(f'{where}: node "{name}" has no calculator')
    try:
        return registry.lookup(node.calculator)
    except NotFound as exc:
        raise ConfigError(f"{node_label(where, name, node.calculator)}: {exc.message}") from exc


def _all_port_names(config: CalculatorGraphConfig) -> set[str]:
    texts = [
        *config.input_stream,
        *config.output_stream,
        *config.input_side_packet,
        *config.output_side_packet,
    ]
    for node in config.node:
        for kind in PortKind:
            texts.extend(getattr(node, kind.value))
    return {t.rsplit(":", 1)[-1] for t in texts}
