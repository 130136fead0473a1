"""Session fixtures of the zoo tests: each zoo model exported once per layout, loaded as the
server loads it, with its sentence-transformers reference computed once.

Exports are fp32 with truncation on (`ovserve export embeddings --weight-format fp32
--truncate`), so the graph runs f32 (the exporter pins `INFERENCE_PRECISION_HINT`) and cuts at
the folder's `max_seq_length` as `SentenceTransformer.encode` does.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from tests.calculators.support import load_workspace_graph
from tests.support.zoo import ZOO, zoo_model
from tests.zoo.support import ZOO_TEXTS, ZooCase, zoo_workspace


@pytest.fixture(scope="session", params=list(ZOO))
def zoo(request: pytest.FixtureRequest) -> Iterator[ZooCase]:
    # Imported here: the calculators never import torch or sentence-transformers.
    from sentence_transformers import SentenceTransformer

    name: str = request.param
    folder = zoo_model(name)
    graph, _ = load_workspace_graph(zoo_workspace(name, "flat"))
    model = SentenceTransformer(str(folder), device="cpu")
    reference = np.asarray(model.encode(list(ZOO_TEXTS)), dtype=np.float32)
    yield ZooCase(name=name, folder=folder, graph=graph, model=model, reference=reference)
    graph.close()
