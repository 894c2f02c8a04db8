"""A job module that exists but cannot be imported (a bug, not a missing feature)."""
raise RuntimeError("broken at import")
