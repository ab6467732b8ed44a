"""Entry point of ``python -m pipeline.bench`` (see :mod:`pipeline.bench`)."""

from pipeline.bench.run import main

raise SystemExit(main())
