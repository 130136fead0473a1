"""The worked example in examples/custom_calculator runs as its README says."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from ovserve.errors import ConfigError, InvalidArgument
from ovserve.graph import default_registry, import_calculator_modules, load_graph
from ovserve.testing import CalculatorRunner

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "custom_calculator"


@dataclass(frozen=True)
class Source:
    name: str
    graph_path: Path
    base_path: Path


@pytest.fixture(scope="module", autouse=True)
def example_module() -> None:
    import_calculator_modules([str(EXAMPLE / "prefix_calculator.py")])


async def test_example_graph_runs() -> None:
    async with load_graph(Source("prefix", EXAMPLE / "graph.pbtxt", EXAMPLE)) as graph:
        result = await graph.run({"texts": ["how do calculators work?"]})
    assert result == {"prefixed": ["query: how do calculators work?"]}


def test_loading_the_module_twice_is_a_no_op() -> None:
    import_calculator_modules([str(EXAMPLE / "prefix_calculator.py")])
    assert "PrefixTextsCalculator" in default_registry


def test_single_node_runner_feeds_by_tag() -> None:
    node = """
        calculator: "PrefixTextsCalculator"
        input_stream: "TEXTS:in"
        output_stream: "TEXTS:out"
        node_options: { [type.googleapis.com/google.protobuf.StringValue]: { value: "passage: " } }
    """
    with CalculatorRunner(node) as runner:
        assert runner.run(TEXTS=["a", "b"]) == {"TEXTS": ["passage: a", "passage: b"]}
        with pytest.raises(
            InvalidArgument, match='node "PrefixTextsCalculator" failed: TEXTS must be a list'
        ):
            runner.run(TEXTS="not a list")


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("no_such_module_xyz", r"calculator module 'no_such_module_xyz' not found"),
        ("./missing_file.py", r"not found: no such file"),
    ],
)
def test_bad_module_names_are_config_errors(name: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        import_calculator_modules([name])


def test_module_that_raises_on_import(tmp_path: Path) -> None:
    broken = tmp_path / "broken_calcs.py"
    broken.write_text("raise ValueError('nope')\n")
    with pytest.raises(ConfigError, match=r"failed to import: ValueError: nope"):
        import_calculator_modules([str(broken)])


def test_module_registering_a_taken_name(tmp_path: Path) -> None:
    clash = tmp_path / "clash.py"
    clash.write_text(
        "from ovserve.graph import Calculator, register_calculator\n"
        "@register_calculator\n"
        "class PrefixTextsCalculator(Calculator):\n"
        "    @classmethod\n"
        "    def get_contract(cls, cc): pass\n"
        "    def process(self, ctx): pass\n"
    )
    with pytest.raises(ConfigError, match=r"'PrefixTextsCalculator' is already registered by"):
        import_calculator_modules([str(clash)])
