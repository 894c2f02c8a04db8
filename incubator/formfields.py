"""Form pieces every feature's forms share: numbers that are numbers, dates a calendar can hold."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import DecimalField
from wtforms.validators import StopValidation, ValidationError

# Dates typed into the platform's forms: a competition, a round, a lease or a search falls in these
# years. Beyond them a date is a typo (0001-01-01, 9999-12-31), and its conversion from Beijing
# time to UTC, or a lease's months added to it, would overflow Python's calendar.
MIN_YEAR, MAX_YEAR = 2000, 2100


class FiniteDecimalField(DecimalField):
    """A DecimalField that refuses what Decimal parses but is no number: NaN, sNaN (on which
    NumberRange itself fails with an exception), Infinity; and exponents like 1e400."""

    no_number = False

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        if self.data is not None and (not self.data.is_finite() or abs(self.data.adjusted()) > 100):
            self.data = None
            self.no_number = True
            raise ValueError(_l("Enter a number."))

    def pre_validate(self, form):
        if self.no_number:  # "Enter a number." says it; "required" or a range would mislead
            raise StopValidation()


class YearInRange:
    """A date or date-time field's value lies in MIN_YEAR..MAX_YEAR."""

    def __init__(self, message=None):
        self.message = message

    def __call__(self, form, field):
        if field.data is not None and not MIN_YEAR <= field.data.year <= MAX_YEAR:
            raise ValidationError(self.message or _l("Enter a date between the years %(min)d and %(max)d.",
                                                     min=MIN_YEAR, max=MAX_YEAR))
