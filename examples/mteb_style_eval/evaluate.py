"""An MTEB-style encoder over ovserve's OpenAI endpoint, and a small retrieval evaluation with it.

`OpenAIEncoder` has the interface MTEB (1.x) evaluates a model through: `encode(sentences,
batch_size=..., **kwargs) -> np.ndarray`, plus `encode_queries` / `encode_corpus` for
retrieval tasks. It sends the texts in batches to `/v3/embeddings` and asks for base64 vectors,
which are decoded straight into float32 arrays.

The evaluation needs no download: a bundled BEIR-layout task (`data/`: 20 documents, 10 queries,
graded relevance judgments) is ranked by cosine similarity and scored with nDCG@10, Recall@k
and MRR@10, computed here the way trec_eval / pytrec_eval (which MTEB uses) compute them,
beside a TF-IDF word-overlap ranking of the same task for scale.

    .venv/bin/python examples/mteb_style_eval/evaluate.py
    .venv/bin/python examples/mteb_style_eval/evaluate.py --batch_size 4 --per_query
"""

from __future__ import annotations

import argparse
import base64
import csv
import json
import math
import re
import sys
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import openai
from openai import OpenAI

DEFAULT_URL = "http://localhost:8000/v3"
DEFAULT_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
DEFAULT_DATA = Path(__file__).resolve().parent / "data"
Vectors = npt.NDArray[np.float32]


class OpenAIEncoder:
    """An embeddings model behind an OpenAI-compatible `/embeddings` endpoint, as MTEB sees a model.

    Args:
        url: OpenAI base URL (`http://localhost:8000/v3` for ovserve).
        model: served model (graph) name.
        batch_size: texts per request when `encode` is not given one.
        query_prefix, document_prefix: prompts put before queries and documents, for models
            trained with them (E5: "query: " / "passage: "); empty for all-MiniLM-L6-v2.
        api_key: bearer key, when the server was started with one.
    """

    def __init__(
        self,
        url: str = DEFAULT_URL,
        model: str = DEFAULT_MODEL,
        *,
        batch_size: int = 32,
        query_prefix: str = "",
        document_prefix: str = "",
        api_key: str = "unused",
    ) -> None:
        self.model = model
        self.batch_size = batch_size
        self.query_prefix = query_prefix
        self.document_prefix = document_prefix
        self.client = OpenAI(base_url=url, api_key=api_key)
        self.requests = 0  # requests sent so far, for reporting

    def encode(self, sentences: Sequence[str], batch_size: int | None = None, **kwargs: Any) -> Vectors:
        """Embed `sentences` in requests of at most `batch_size` texts; an [N, D] float32 array.

        Other keyword arguments MTEB passes (`prompt_name`, `task_name`, `show_progress_bar`,
        `convert_to_tensor`, ...) are accepted and ignored.
        """
        size = batch_size or self.batch_size
        texts = list(sentences)
        vectors: list[Vectors] = []
        for start in range(0, len(texts), size):
            vectors.extend(self._request(texts[start : start + size]))
        if not vectors:
            return np.zeros((0, 0), dtype=np.float32)
        return np.stack(vectors)

    def encode_queries(self, queries: Sequence[str], batch_size: int | None = None, **kwargs: Any) -> Vectors:
        """Queries of a retrieval task, with `query_prefix`."""
        return self.encode([self.query_prefix + q for q in queries], batch_size, **kwargs)

    def encode_corpus(
        self,
        corpus: Sequence[Mapping[str, str]] | Sequence[str],
        batch_size: int | None = None,
        **kwargs: Any,
    ) -> Vectors:
        """Documents of a retrieval task: strings, or BEIR records joined as "title text" as MTEB does."""
        texts = [
            doc if isinstance(doc, str) else f"{doc.get('title', '')} {doc['text']}".strip() for doc in corpus
        ]
        return self.encode([self.document_prefix + t for t in texts], batch_size, **kwargs)

    def _request(self, texts: list[str]) -> list[Vectors]:
        # With encoding_format="base64" passed explicitly, the SDK hands back the server's
        # base64 string as is: little-endian float32 bytes, decoded without a JSON float list.
        response = self.client.embeddings.create(input=texts, model=self.model, encoding_format="base64")
        self.requests += 1
        ordered = sorted(response.data, key=lambda item: item.index)
        return [np.frombuffer(base64.b64decode(_as_str(item.embedding)), dtype="<f4") for item in ordered]


def _as_str(embedding: object) -> str:
    # The SDK types `embedding` as list[float]; for base64 responses it is the string.
    if not isinstance(embedding, str):
        raise TypeError(f"expected a base64 string, got {type(embedding).__name__}")
    return embedding


# --- the task: BEIR layout, corpus.jsonl / queries.jsonl / qrels.tsv ------------------------


@dataclass(frozen=True)
class RetrievalTask:
    corpus: dict[str, dict[str, str]]  # doc id -> {"title", "text"}
    queries: dict[str, str]  # query id -> text
    qrels: dict[str, dict[str, int]]  # query id -> {doc id: graded relevance > 0}


def load_task(folder: Path) -> RetrievalTask:
    def jsonl(name: str) -> list[dict[str, str]]:
        with (folder / name).open(encoding="utf-8") as lines:
            return [json.loads(line) for line in lines if line.strip()]

    corpus = {
        row["_id"]: {"title": row.get("title", ""), "text": row["text"]} for row in jsonl("corpus.jsonl")
    }
    queries = {row["_id"]: row["text"] for row in jsonl("queries.jsonl")}
    qrels: dict[str, dict[str, int]] = {}
    with (folder / "qrels.tsv").open(encoding="utf-8", newline="") as tsv:
        for row in csv.DictReader(tsv, delimiter="\t"):
            if int(row["score"]) > 0:
                qrels.setdefault(row["query-id"], {})[row["corpus-id"]] = int(row["score"])
    return RetrievalTask(corpus, queries, qrels)


# --- metrics ---------------------------------------------------------------------------------


def ndcg_at(ranking: Sequence[str], relevant: Mapping[str, int], k: int) -> float:
    """nDCG@k with linear gains (trec_eval's ndcg_cut): sum rel / log2(rank + 1), over the ideal order."""
    dcg = sum(relevant.get(doc, 0) / math.log2(rank + 2) for rank, doc in enumerate(ranking[:k]))
    ideal = sorted(relevant.values(), reverse=True)[:k]
    idcg = sum(gain / math.log2(rank + 2) for rank, gain in enumerate(ideal))
    return dcg / idcg if idcg else 0.0


def recall_at(ranking: Sequence[str], relevant: Mapping[str, int], k: int) -> float:
    """Share of the relevant documents that are in the top k."""
    return len(set(ranking[:k]) & relevant.keys()) / len(relevant) if relevant else 0.0


def mrr_at(ranking: Sequence[str], relevant: Mapping[str, int], k: int) -> float:
    """1 / rank of the first relevant document in the top k, else 0."""
    return next((1 / (rank + 1) for rank, doc in enumerate(ranking[:k]) if doc in relevant), 0.0)


def rank_corpus(encoder: OpenAIEncoder, task: RetrievalTask, batch_size: int) -> dict[str, list[str]]:
    """Every query's documents, best first by cosine similarity."""
    doc_ids = list(task.corpus)
    query_ids = [q for q in task.queries if q in task.qrels]  # MTEB scores only judged queries
    documents = encoder.encode_corpus([task.corpus[d] for d in doc_ids], batch_size=batch_size)
    queries = encoder.encode_queries([task.queries[q] for q in query_ids], batch_size=batch_size)
    documents /= np.maximum(np.linalg.norm(documents, axis=1, keepdims=True), 1e-12)
    queries /= np.maximum(np.linalg.norm(queries, axis=1, keepdims=True), 1e-12)
    scores = queries @ documents.T
    order = np.argsort(-scores, axis=1, kind="stable")
    return {q: [doc_ids[i] for i in order[row]] for row, q in enumerate(query_ids)}


def tfidf_rank_corpus(task: RetrievalTask) -> dict[str, list[str]]:
    """The same rankings by TF-IDF word overlap: the floor a semantic model should clear."""
    words = [re.findall(r"\w+", f"{d['title']} {d['text']}".lower()) for d in task.corpus.values()]
    document_frequency = Counter(word for text in words for word in set(text))
    idf = {word: math.log((len(words) + 1) / (count + 1)) for word, count in document_frequency.items()}

    def vector(text: list[str]) -> dict[str, float]:
        weights = {word: count * idf.get(word, 0.0) for word, count in Counter(text).items()}
        norm = math.sqrt(sum(w * w for w in weights.values())) or 1.0
        return {word: w / norm for word, w in weights.items()}

    documents = dict(zip(task.corpus, map(vector, words), strict=True))
    rankings = {}
    for q in (q for q in task.queries if q in task.qrels):
        query = vector(re.findall(r"\w+", task.queries[q].lower()))
        score = {d: sum(w * doc.get(word, 0.0) for word, w in query.items()) for d, doc in documents.items()}
        rankings[q] = sorted(documents, key=lambda d: -score[d])  # stable: ties keep corpus order
    return rankings


def positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {text}")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--url", default=DEFAULT_URL, help=f"OpenAI base URL of the server (default {DEFAULT_URL})"
    )
    parser.add_argument("--model", default=DEFAULT_MODEL, help=f"served graph name (default {DEFAULT_MODEL})")
    parser.add_argument(
        "--data", type=Path, default=DEFAULT_DATA, help="folder with corpus.jsonl, queries.jsonl, qrels.tsv"
    )
    parser.add_argument("--batch_size", type=positive, default=8, help="texts per request (default 8)")
    parser.add_argument("--query_prefix", default="", help='prompt before each query, e.g. "query: "')
    parser.add_argument("--document_prefix", default="", help='prompt before each document, e.g. "passage: "')
    parser.add_argument("--per_query", action="store_true", help="also print each query's scores")
    args = parser.parse_args(argv)

    try:
        task = load_task(args.data)
    except (OSError, ValueError, KeyError) as error:
        print(f"error: cannot read the task in {args.data}: {error}", file=sys.stderr)
        return 1
    encoder = OpenAIEncoder(
        args.url, args.model, query_prefix=args.query_prefix, document_prefix=args.document_prefix
    )
    try:
        rankings = rank_corpus(encoder, task, args.batch_size)
    except openai.APIConnectionError as error:
        reason = error.__cause__ or error
        print(
            f"error: cannot reach {args.url}: {reason}. Start the server (make serve) or pass --url.",
            file=sys.stderr,
        )
        return 1
    except openai.APIStatusError as error:
        body = error.body
        message = body.get("message") if isinstance(body, dict) else None
        print(f"error: {args.url} answered {error.status_code}: {message or error.message}", file=sys.stderr)
        return 1

    print(
        f"model {args.model}: {len(task.corpus)} documents, {len(rankings)} queries, "
        f"{encoder.requests} requests of at most {args.batch_size} texts"
    )
    metrics = [("nDCG@10", ndcg_at, 10), ("Recall@1", recall_at, 1), ("Recall@3", recall_at, 3)]
    metrics += [("Recall@10", recall_at, 10), ("MRR@10", mrr_at, 10)]
    names = [name for name, _, _ in metrics]

    def score(rankings: Mapping[str, list[str]]) -> dict[str, dict[str, float]]:
        return {
            q: {name: metric(ranking, task.qrels[q], k) for name, metric, k in metrics}
            for q, ranking in rankings.items()
        }

    per_query = score(rankings)
    baseline = score(tfidf_rank_corpus(task))
    if args.per_query:
        print(f"{'query':6} " + " ".join(f"{name:>9}" for name in names) + "  top 3")
        for q, values in per_query.items():
            cells = " ".join(f"{values[name]:9.3f}" for name in names)
            print(f"{q:6} {cells}  {' '.join(rankings[q][:3])}")
        print()
    print(f"{'metric':10} {'model':>7} {'tf-idf':>7}")
    for name in names:
        ours = np.mean([values[name] for values in per_query.values()])
        words = np.mean([values[name] for values in baseline.values()])
        print(f"{name:10} {ours:7.4f} {words:7.4f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
