"""`python -m ovserve` is the `ovserve` command."""

from ovserve.cli import main

raise SystemExit(main())
