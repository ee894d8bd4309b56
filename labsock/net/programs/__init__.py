"""Students' own programs, each run as its own process and watched (see job.py)."""
