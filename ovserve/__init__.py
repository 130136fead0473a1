"""ovserve: a graph-pipeline embeddings server on OpenVINO, compatible with OpenVINO Model Server."""

__version__ = "0.1.0"
