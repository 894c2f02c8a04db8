"""Stands in for incubator.judging.services in the extension-point test: every judge is assigned."""


def can_view_deck(judge, application) -> bool:
    return True
