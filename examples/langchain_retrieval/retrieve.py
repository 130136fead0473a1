"""Retrieval over a folder of local documents with LangChain, embeddings served by ovserve.

LangChain's `OpenAIEmbeddings` talks to ovserve's OpenAI endpoint (`/v3/embeddings`); the
vectors go into LangChain's `InMemoryVectorStore`, which ranks the documents by cosine
similarity to each query. Nothing is downloaded at run time.

    .venv/bin/python examples/langchain_retrieval/retrieve.py
    .venv/bin/python examples/langchain_retrieval/retrieve.py --k 2 "my bike tyre keeps going flat"
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

import openai
from langchain_core.documents import Document
from langchain_core.vectorstores import InMemoryVectorStore
from langchain_openai import OpenAIEmbeddings
from pydantic import SecretStr

DEFAULT_URL = "http://localhost:8000/v3"
DEFAULT_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
DEFAULT_DOCS = Path(__file__).resolve().parent / "docs"
DEFAULT_QUERIES = ("How often do I need to feed the yeast culture I bake with?",)


def ovserve_embeddings(url: str, model: str) -> OpenAIEmbeddings:
    """`OpenAIEmbeddings` configured for an OpenAI-compatible server that serves `model` itself."""
    return OpenAIEmbeddings(
        base_url=url,
        api_key=SecretStr("unused"),  # ovserve checks a key only when started with --api_key_file / API_KEY
        model=model,
        # By default OpenAIEmbeddings tokenizes every text with tiktoken first (to split texts
        # longer than OpenAI's context into pieces) and sends token ids. tiktoken downloads its
        # encoding file from the internet on first use, and its ids are OpenAI's vocabulary,
        # not this model's. With False, plain strings are sent and the server tokenizes them
        # with the model's own tokenizer; nothing is downloaded.
        check_embedding_ctx_length=False,
        # tiktoken_enabled stays at its default: it only chooses the tokenizer of the length
        # check above, which is off. (tiktoken_enabled=False with the check on would load a
        # Hugging Face tokenizer named `model` instead, also a download.)
        # Without the length check nothing splits long texts any more: keep each document
        # under the model's limit (256 tokens for all-MiniLM-L6-v2), e.g. with a text
        # splitter, or the server answers 400 "Input length N longer than allowed 256".
    )


def load_documents(folder: Path) -> list[Document]:
    """One Document per `*.txt` file: the whole text, with the file name and first line as metadata."""
    documents = []
    for path in sorted(folder.glob("*.txt")):
        text = path.read_text(encoding="utf-8").strip()
        title = text.splitlines()[0] if text else ""
        documents.append(Document(page_content=text, metadata={"source": path.name, "title": title}))
    return documents


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
    parser.add_argument("--docs", type=Path, default=DEFAULT_DOCS, help="folder of .txt documents")
    parser.add_argument("--k", type=positive, default=3, help="hits to print per query (default 3)")
    parser.add_argument(
        "queries", nargs="*", default=list(DEFAULT_QUERIES), help="queries (default: one example)"
    )
    args = parser.parse_args(argv)

    documents = load_documents(args.docs)
    if not documents:
        print(f"error: no .txt documents in {args.docs}", file=sys.stderr)
        return 1
    store = InMemoryVectorStore(ovserve_embeddings(args.url, args.model))
    try:
        store.add_documents(documents)
        print(f"indexed {len(documents)} documents from {os.path.relpath(args.docs)} with {args.model}")
        for query in args.queries:
            print(f"\nquery: {query}")
            hits = store.similarity_search_with_score(query, k=args.k)
            for rank, (document, score) in enumerate(hits, start=1):
                print(f"  {rank}. {score:.3f}  {document.metadata['source']:24} {document.metadata['title']}")
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
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
