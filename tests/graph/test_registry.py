"""The calculator registry: explicit names, duplicates refused, unknown names listed."""

from __future__ import annotations

import pytest

from ovserve.errors import InternalError, NotFound
from ovserve.graph import CalculatorRegistry, register_calculator
from tests.graph.toy_calculators import CheckCalculator, UpperCalculator


def test_register_and_lookup_by_class_name() -> None:
    registry = CalculatorRegistry()
    register_calculator(registry=registry)(UpperCalculator)
    assert registry.lookup("UpperCalculator") is UpperCalculator
    assert "UpperCalculator" in registry
    assert list(registry) == ["UpperCalculator"]
    assert len(registry) == 1


def test_registering_the_same_class_again_is_idempotent_but_a_clash_raises() -> None:
    registry = CalculatorRegistry()
    registry.register(UpperCalculator)
    registry.register(UpperCalculator)
    already = r"'UpperCalculator' is already registered by tests\.graph\.toy_calculators"
    with pytest.raises(InternalError, match=already):
        registry.register(CheckCalculator, name="UpperCalculator")


def test_unknown_name_lists_known_names() -> None:
    registry = CalculatorRegistry()
    registry.register(UpperCalculator)
    registry.register(CheckCalculator)
    with pytest.raises(
        NotFound, match="'Nope' is not registered; known calculators: CheckCalculator, UpperCalculator"
    ):
        registry.lookup("Nope")


def test_only_calculators_and_subgraphs_register() -> None:
    with pytest.raises(InternalError, match="neither a Calculator nor a Subgraph"):
        CalculatorRegistry().register(int)  # type: ignore[type-var]


def test_copy_is_independent() -> None:
    base = CalculatorRegistry()
    base.register(UpperCalculator)
    copy = base.copy()
    copy.register(CheckCalculator)
    assert base.names() == ["UpperCalculator"]
    assert copy.names() == ["CheckCalculator", "UpperCalculator"]
