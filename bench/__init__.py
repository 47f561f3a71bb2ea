"""`make bench`: measured figures for docs/benchmarks.md. Benchmarks, not tests."""
