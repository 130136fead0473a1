"""Export Hugging Face models into OVMS-compatible workspaces (`ovserve export ...`).

Public API: `export_embeddings(options, progress) -> ExportResult` with `ExportOptions`;
the rt_info keys a graph engine reads are documented in `ovserve.runtime.rt_info`.
Importing this package is cheap: torch, transformers and optimum load only during an export.
"""

from __future__ import annotations

from ovserve.export.embeddings import export_embeddings
from ovserve.export.options import ExportOptions, ExportResult

__all__ = ["ExportOptions", "ExportResult", "export_embeddings"]
