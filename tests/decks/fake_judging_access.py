"""Stands in for incubator.judging.access in the extension-point test: every judge is assigned."""


def can_read_entry(user, application) -> bool:
    return True
