"""Scheduled jobs: one scheduler process (`flask jobs run`), a registry features add to, and a
guarded runner that makes every due time run exactly once (see runner.py)."""
