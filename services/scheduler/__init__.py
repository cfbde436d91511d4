"""The scheduler service: the one writer of orchestration state (see app.py)."""
