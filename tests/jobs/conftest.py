from __future__ import annotations

import dataclasses

import pytest


@pytest.fixture(autouse=True)
def storage_job_not_installed(monkeypatch):
    """The storage cleanup job points at a feature merged separately. These tests need it in the
    "not available" state whatever is merged (an editable install of another checkout can even make
    `incubator.storage` importable from there), so they point it at a module that never exists.
    test_storage_cleanup_job_resolves_when_storage_is_present checks the real path."""
    from incubator.jobs import registry

    specs = registry.load()
    spec = specs["remove_unconfirmed_uploads"]
    monkeypatch.setitem(registry._REGISTRY, spec.id,
                        dataclasses.replace(spec, func_path="tests.jobs.no_such_feature:remove_unconfirmed_uploads"))
    return spec
