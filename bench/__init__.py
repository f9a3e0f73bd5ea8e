"""The benchmarks, a package run from the repository root: ``python -m bench.<name>`` (``python -m bench.run``
writes docs/benchmarks.md). Imports are absolute (``from bench.servers import ...``); what the benches share
with the tests comes through :mod:`bench.from_tests`, the one module here that imports ``tests``."""
