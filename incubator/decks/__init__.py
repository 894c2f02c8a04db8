"""Pitch decks: versions per application, browser uploads straight to S3 (presigned POST), content
checks after upload, a streamed no-JS fallback, and short presigned downloads.

create_app calls register(app) once (from register_blueprints).
"""
from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from . import models  # noqa: F401  (the table belongs to the metadata migrations compare)
    from .models import can_download_deck
    from .services import decks_of
    from .views import bp

    app.register_blueprint(bp)
    app.add_template_global(decks_of, "deck_versions")
    app.add_template_global(can_download_deck, "can_download_deck")

    @app.template_filter("filesize")
    def filesize(value) -> str:
        if value is None:
            return ""
        value = float(value)
        for unit in ("B", "KB", "MB", "GB"):
            if value < 1024 or unit == "GB":
                return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
            value /= 1024
        return ""
