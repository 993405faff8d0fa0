"""``python -m wealist``: the same as the ``wealist`` command."""

from wealist.cli import main

raise SystemExit(main())
