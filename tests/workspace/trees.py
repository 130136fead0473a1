"""Build fake workspaces on disk: empty model files, no OpenVINO needed."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Link:
    """A symlink to `target` (relative to the link's directory, or absolute)."""

    target: str


DIR = None
"""A tree value that makes an empty directory."""

Tree = Mapping[str, "str | Link | None"]


def write_tree(root: Path, tree: Tree) -> None:
    """Create `tree` under `root`: str -> file content, `DIR` -> directory, `Link` -> symlink."""
    for rel, content in tree.items():
        path = root / rel
        if content is None:
            path.mkdir(parents=True, exist_ok=True)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, Link):
            path.symlink_to(content.target)
        else:
            path.write_text(content, encoding="utf-8")


def model(name: str, base_path: str | None = None, **keys: object) -> dict[str, object]:
    """One `model_config_list` item."""
    config: dict[str, object] = {"name": name, **keys}
    if base_path is not None:
        config["base_path"] = base_path
    return {"config": config}


def config_json(*items: object, **sections: object) -> str:
    return json.dumps({"model_config_list": list(items), **sections}, indent=2)


def subconfig_json(*items: object) -> str:
    return json.dumps({"model_config_list": list(items)}, indent=2)


EMBEDDINGS_GRAPH = 'input_stream: "REQUEST_PAYLOAD:input"\noutput_stream: "RESPONSE_PAYLOAD:output"\n'


def seed_tree(name: str = "Alibaba-NLP/gte-large-en-v1.5") -> dict[str, str | Link | None]:
    """The seed demo's layout (embeddings-demo.md): a graph with tokenizer and embeddings models."""
    return {
        f"models/{name}/graph.pbtxt": EMBEDDINGS_GRAPH,
        f"models/{name}/subconfig.json": subconfig_json(
            model(f"{name}_tokenizer_model", "tokenizer"),
            model(
                f"{name}_embeddings_model",
                "embeddings",
                target_device="CPU",
                plugin_config={"NUM_STREAMS": "1"},
            ),
        ),
        f"models/{name}/tokenizer/1/model.xml": "",
        f"models/{name}/tokenizer/1/model.bin": "",
        f"models/{name}/embeddings/1/model.xml": "",
        f"models/{name}/embeddings/1/model.bin": "",
        "models/config.json": json.dumps(
            {"mediapipe_config_list": [{"name": name, "base_path": name}], "model_config_list": []}
        ),
    }
