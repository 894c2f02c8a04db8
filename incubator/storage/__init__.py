"""File storage on any S3-compatible store: the client, upload tickets, the upload sweep, the
`flask storage` commands, a manager diagnostics page, and the 503 page for an unreachable store.

create_app calls register(app) once (from register_blueprints).
"""
from __future__ import annotations

from flask import Flask

from .client import StorageUnavailable, get_storage, new_key  # noqa: F401  (the package's public API)


def register(app: Flask) -> None:
    from flask import jsonify, render_template, request

    from flask_babel import lazy_gettext as _l

    from .. import ERROR_TITLES
    from ..extensions import db
    from . import models  # noqa: F401  (the table belongs to the metadata migrations compare)
    from .commands import storage_cli
    from .views import bp

    app.register_blueprint(bp)
    ERROR_TITLES.setdefault(503, _l("Service temporarily unavailable"))
    app.cli.add_command(storage_cli)

    @app.errorhandler(StorageUnavailable)
    def storage_unavailable(exc: StorageUnavailable):
        # The store's failure was logged (with the request id) where it happened.
        db.session.rollback()
        if request.accept_mimetypes.best == "application/json" or request.is_json:
            return jsonify(error=str(exc.message)), 503
        return render_template("errors/error.html", code=503, message=exc.message), 503
