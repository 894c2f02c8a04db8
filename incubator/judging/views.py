from flask import Blueprint

from . import models  # noqa: F401

bp = Blueprint("judging", __name__)
