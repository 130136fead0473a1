"""The detokenizer beside a tokenizer: where it is looked for, and what a graph without one, or
with a broken one, answers (UNIMPLEMENTED naming the file; every other call still serves)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from calculators.ov_detokenizer import Detokenizer, LazyDetokenizer, find_detokenizer
from ovserve.errors import ConfigError, InvalidArgument, Unimplemented
from ovserve.graph.node_loading import default_core
from tests.support.models import DEFAULT_GRAPH_NAME, exported_workspace

pytestmark = pytest.mark.slow


def seed_tokenizer_folder() -> Path:
    return exported_workspace().parent / DEFAULT_GRAPH_NAME / "tokenizer" / "1"


def test_found_in_the_versioned_subfolder_and_in_a_flat_folder() -> None:
    versioned = seed_tokenizer_folder()
    assert find_detokenizer(versioned) == versioned / "detokenizer" / "openvino_detokenizer.xml"
    flat = exported_workspace(layout="flat", truncate=True).parent / DEFAULT_GRAPH_NAME
    assert find_detokenizer(flat) == flat / "openvino_detokenizer.xml"


def test_a_folder_without_one_is_unimplemented_naming_both_places(tmp_path: Path) -> None:
    lazy = LazyDetokenizer(default_core(), tmp_path, where="Tokenizer")
    with pytest.raises(Unimplemented) as raised:
        lazy.get()
    assert str(tmp_path / "openvino_detokenizer.xml") in raised.value.message
    assert str(tmp_path / "detokenizer" / "openvino_detokenizer.xml") in raised.value.message


def test_an_xml_without_its_bin_is_not_a_detokenizer(tmp_path: Path) -> None:
    shutil.copy(seed_tokenizer_folder() / "detokenizer" / "openvino_detokenizer.xml", tmp_path)
    assert find_detokenizer(tmp_path) is None


def test_a_broken_detokenizer_is_unimplemented_every_time(tmp_path: Path) -> None:
    (tmp_path / "openvino_detokenizer.xml").write_text("<net>not a model")
    (tmp_path / "openvino_detokenizer.bin").write_bytes(b"")
    lazy = LazyDetokenizer(default_core(), tmp_path, where="Tokenizer")
    for _ in range(2):
        with pytest.raises(Unimplemented, match="cannot load the detokenizer"):
            lazy.get()


def test_a_model_that_is_not_a_detokenizer_is_refused(tmp_path: Path) -> None:
    # The tokenizer itself: a real openvino-tokenizers model, without a VocabDecoder.
    for suffix in (".xml", ".bin"):
        shutil.copy(seed_tokenizer_folder() / f"model{suffix}", tmp_path / f"openvino_detokenizer{suffix}")
    core = default_core()
    with pytest.raises(ConfigError, match="0 VocabDecoder operations"):
        Detokenizer(core, core.read_model(tmp_path / "openvino_detokenizer.xml"), where="Tokenizer")
    with pytest.raises(Unimplemented, match="0 VocabDecoder operations"):
        LazyDetokenizer(core, tmp_path, where="Tokenizer").get()


def test_ids_outside_the_vocabulary_are_refused_before_any_inference() -> None:
    detokenizer = LazyDetokenizer(default_core(), seed_tokenizer_folder(), where="Tokenizer").get()
    assert detokenizer.vocab_size == 30522
    assert detokenizer.special_ids == {0, 100, 101, 102, 103}
    for bad in (-1, 30522, 2**70):
        with pytest.raises(InvalidArgument, match=f"token id {bad} is outside"):
            detokenizer.decode([[101], [bad]], skip_special_tokens=True)
        with pytest.raises(InvalidArgument):
            detokenizer.pieces([bad])
    assert (detokenizer.pieces([]), detokenizer.raw_pieces([])) == ([], [])
