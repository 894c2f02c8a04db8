"""Entry point for gunicorn (`gunicorn wsgi:app`) and `flask --app wsgi`."""
import sys

from config import ConfigurationError
from incubator import create_app

try:
    app = create_app()
except ConfigurationError as exc:  # one clear line instead of a traceback
    sys.stderr.write(f"青创城: {exc}\n")
    raise SystemExit(1)
