"""Jobs of the platform services that live on other branches or in packages without their own
jobs.py. Functions are named by dotted path and imported only when they run."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from .registry import register_job

# The storage feature provides this function; until it is merged the job shows "not available".
register_job("remove_unconfirmed_uploads", "incubator.storage.services:remove_unconfirmed_uploads",
             trigger="interval", hours=1, kwargs={"older_than_hours": 24}, optional=True, misfire_grace_time=600,
             description=_l("Remove uploads never confirmed within 24 hours"))
