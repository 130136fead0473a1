"""Prometheus text format (0.0.4) of a `CollectorRegistry`, in the shape OVMS writes it.

`prometheus_client.generate_latest` renames every counter `<name>_total` (samples and the
`# TYPE` line) and adds `_created` samples. OVMS's exporter writes counters under their own
name (`ovms_requests_success{…} 3`), and dashboards query those names, so this renderer
keeps each family's configured name, drops `_created` and empty labels, and writes integral
numbers (values and `le` bounds) without a fraction, as OVMS does. Everything else (label escaping, float
formatting) is prometheus_client's.
"""

from __future__ import annotations

import math

from prometheus_client import CollectorRegistry
from prometheus_client.samples import Sample
from prometheus_client.utils import floatToGoString

from ovserve.metrics.families import FAMILIES

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

# prometheus_client stores a counter `x_total` as family `x`: map back to the configured name.
_COUNTER_NAMES = {f.name.removesuffix("_total"): f.name for f in FAMILIES.values() if f.kind == "counter"}


def render(registry: CollectorRegistry) -> bytes:
    """Every family of `registry`, with `# HELP` and `# TYPE` lines. Runs its collectors."""
    lines: list[str] = []
    for family in registry.collect():
        name = family.name
        if family.type == "counter":
            name = _COUNTER_NAMES.get(family.name, family.name)
        documentation = family.documentation.replace("\\", r"\\").replace("\n", r"\n")
        lines.append(f"# HELP {name} {documentation}\n")
        lines.append(f"# TYPE {name} {family.type}\n")
        for sample in family.samples:
            if sample.name.endswith("_created"):
                continue
            sample_name = name if family.type == "counter" else sample.name
            lines.append(_sample_line(sample_name, sample))
    return "".join(lines).encode("utf-8")


def _sample_line(name: str, sample: Sample) -> str:
    # An empty value is no label in Prometheus; OVMS leaves `version` out where it has none.
    labels = ",".join(
        f'{key}="{_escape(_label_value(key, value))}"' for key, value in sample.labels.items() if value
    )
    return f"{name}{{{labels}}} {_number(sample.value)}\n" if labels else f"{name} {_number(sample.value)}\n"


def _label_value(key: str, value: str) -> str:
    if key != "le":
        return value
    return _number(float(value))


def _number(value: float) -> str:
    value = float(value)
    if math.isfinite(value) and value.is_integer() and abs(value) < 2**63:
        return str(int(value))
    text: str = floatToGoString(value)  # type: ignore[no-untyped-call]
    return text


def _escape(value: str) -> str:
    return value.replace("\\", r"\\").replace("\n", r"\n").replace('"', r"\"")
