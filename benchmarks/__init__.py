"""`make bench`: tac-api against a raw-driver floor (see benchmarks/run.py)."""
