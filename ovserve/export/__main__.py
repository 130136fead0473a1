"""`python -m ovserve.export embeddings ...` (same as `ovserve export embeddings ...`)."""

from __future__ import annotations

import sys

from ovserve.export.cli import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
