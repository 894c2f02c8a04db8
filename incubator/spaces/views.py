from flask import Blueprint

from . import models  # noqa: F401

bp = Blueprint("spaces", __name__, url_prefix="/spaces")
