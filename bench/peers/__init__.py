"""The peers' side of `make bench`: one script per task queue (Dramatiq, Celery, arq), each run by
bench/peers_bench.py with its own virtualenv's Python and bench/peers as its import path (so they
import `_probe` as a top-level module and nothing of Errand's)."""
