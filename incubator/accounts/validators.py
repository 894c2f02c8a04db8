"""Field rules shared by the account forms."""
from __future__ import annotations

import re
import unicodedata

from flask_babel import lazy_gettext as _l
from wtforms.validators import ValidationError

# Mainland China mobile numbers: 11 digits starting 13–19, optionally written with +86 / 86.
_MOBILE = re.compile(r"^(?:\+?86)?(1[3-9][0-9]{9})$")


def normalize_mobile(value: str | None) -> str | None:
    """The 11 ASCII digits of a mainland mobile number, or None. Full-width digits and signs typed
    with a Chinese input method (１３８…, ＋86) count as the digits they are; other scripts' digits
    do not (they would be stored as typed and match nothing later)."""
    if not value:
        return None
    compact = re.sub(r"[\s-]", "", unicodedata.normalize("NFKC", value))
    match = _MOBILE.match(compact)
    return match.group(1) if match else None


class MainlandMobile:
    def __init__(self, message=None):
        self.message = message or _l("Enter an 11-digit mainland China mobile number, e.g. 13812345678.")

    def __call__(self, form, field):
        if field.data and normalize_mobile(field.data) is None:
            raise ValidationError(self.message)


class StrongEnoughPassword:
    """At least 8 characters with a letter and a digit: short enough for a phone, hard to guess."""

    def __call__(self, form, field):
        value = field.data or ""
        if len(value) < 8 or not re.search(r"[A-Za-z]", value) or not re.search(r"\d", value):
            raise ValidationError(_l("Use at least 8 characters with letters and digits."))
