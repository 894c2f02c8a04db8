"""Judges reach the decks of their entries (and only those), under a neutral file name."""
from __future__ import annotations

import io
from urllib.parse import unquote
from urllib.request import urlopen

from tests.conftest import login

PDF = b"%PDF-1.7\n" + b"0" * 2048 + b"\n%%EOF\n"


def _deck_for(db, app):
    """A deck as the team uploaded it before the deadline (the round is past that by now)."""
    from incubator.accounts.models import User
    from incubator.decks.models import Deck
    from incubator.storage import services as storage

    founder = db.session.get(User, app.team.created_by_id)
    ticket = storage.receive_upload(founder, "decks", "南湖柔电-商业计划书.pdf", "application/pdf", 10_000_000,
                                    io.BytesIO(PDF))
    storage.confirm_upload(ticket, len(PDF))
    deck = Deck(application_id=app.id, version=1, ticket_id=ticket.id, key=ticket.key,
                original_filename=ticket.original_filename, size_bytes=len(PDF), kind="pdf", uploaded_by_id=founder.id)
    db.session.add(deck)
    db.session.commit()
    return deck


def test_assigned_judge_downloads_the_deck_under_a_neutral_name(app, db, world, client):
    comp = world.competition(blind=True)
    rnd = comp.rounds[0]
    entry = world.entry(comp, project="柔性电子皮肤传感器")
    judge = world.judge(organization="浙江大学")
    world.assign(rnd, judge, entry)
    deck = _deck_for(db, entry)
    login(client, judge)
    response = client.get(f"/decks/{deck.id}/download")
    assert response.status_code == 302
    with urlopen(response.headers["Location"]) as s3:
        disposition = unquote(s3.headers["Content-Disposition"])
        assert s3.read() == PDF
    assert f"entry-{entry.id}-deck-v1.pdf" in disposition and "南湖柔电" not in disposition


def test_unassigned_or_conflicted_judge_gets_404_for_the_deck(app, db, world, client):
    comp = world.competition()
    rnd = comp.rounds[0]
    entry = world.entry(comp, school="浙江大学")
    deck = _deck_for(db, entry)
    stranger = world.judge(organization="复旦大学")
    conflicted = world.judge(organization="浙江大学")
    world.assign(rnd, conflicted, entry)  # automatic conflict: same organization as a team member
    db.session.commit()
    for judge in (stranger, conflicted):
        other = client.application.test_client()
        login(other, judge)
        assert other.get(f"/decks/{deck.id}/download").status_code == 404
