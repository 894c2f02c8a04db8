"""Every link a demo user is shown leads somewhere, in the user's language: each role, in each
language, follows the links of every page it can reach (GET only) over the demo data of `make run`.
A link that answers with a server error, a 404 or a refusal (403) is a defect of the page that
showed it; so is an interface message shown in the other language (a string translated once, at
import time, or never marked for translation)."""
from __future__ import annotations

import re
from collections import deque
from functools import cache
from html import unescape
from pathlib import Path
from urllib.parse import urldefrag, urlsplit

import pytest

from tests.conftest import login

HREF = re.compile(r'<a\b[^>]*\bhref="([^"]+)"')
# Not followed: signing out ends the crawl, the language switch is tested elsewhere, static files and
# deck downloads (a redirect to the object store) are not pages.
SKIP = re.compile(r"^/(logout|lang/|static/)|/decks/\d+/download|\?.*\blang=")
LIMIT = 400
TAG = re.compile(r"<[^>]+>")
PLACEHOLDER = re.compile(r"%|\{")
# The platform's own name is the demo data's too (the building, the competition's description).
BRAND = re.compile(r"青创城|Startup City")
# Pages whose text is stored data in its own language: the mail outbox shows each mail as it was
# written for its recipient.
DATA_PAGES = re.compile(r"^/manage/outbox/")


@cache
def interface_messages() -> tuple[frozenset[str], frozenset[str]]:
    """The catalogs' longer messages without placeholders: (English ids, their Chinese translations).
    Short ones ("Name", "名称") could be anyone's data; these can only be the interface speaking."""
    from babel.messages.pofile import read_po

    english, chinese = set(), set()
    for po in Path(__file__).resolve().parent.parent.glob("incubator/**/translations/zh_Hans_CN/LC_MESSAGES/messages.po"):
        with po.open("rb") as f:
            for m in read_po(f):
                if (isinstance(m.id, str) and m.string and m.id != m.string and not PLACEHOLDER.search(m.id)
                        and not BRAND.search(m.id)):
                    if len(m.id) >= 14:
                        english.add(m.id)
                    if len(m.string) >= 6:
                        chinese.add(m.string)
    assert len(english) > 100 and len(chinese) > 100, "the catalogs were not found"
    return frozenset(english), frozenset(chinese)


def crawl(client, start: str, foreign: frozenset[str]) -> tuple[set[str], list[tuple[str, str, object]]]:
    """Breadth first from `start`; returns the paths seen and the defects (path, linking page, what)."""
    seen, broken = {start}, []
    queue = deque([(start, "(start)")])
    while queue and len(seen) <= LIMIT:
        path, source = queue.popleft()
        response = client.get(path)
        if response.status_code in (403, 404) or response.status_code >= 500:
            broken.append((path, source, response.status_code))
            continue
        if response.status_code in (301, 302, 303):
            target = urlsplit(response.headers["Location"])
            if target.netloc and target.netloc not in ("localhost",):
                continue  # e.g. a presigned object-store address
            nxt = target.path + (f"?{target.query}" if target.query else "")
            if nxt not in seen and not SKIP.search(nxt):
                seen.add(nxt)
                queue.append((nxt, path))
            continue
        if "text/html" not in response.content_type:
            continue
        html = response.get_data(as_text=True)
        text = unescape(TAG.sub(" ", html))
        if not DATA_PAGES.search(path):
            broken.extend((path, source, f"says {m!r}") for m in foreign if m in text)
        for href in HREF.findall(html):
            href = urldefrag(unescape(href))[0]
            if not href.startswith("/") or href.startswith("//") or SKIP.search(href) or href in seen:
                continue
            seen.add(href)
            queue.append((href, path))
    return seen, broken


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
@pytest.mark.parametrize("email", ["manager@qcc.demo", "judge.wang@qcc.demo", "founder.zhou@qcc.demo"])
def test_every_link_a_demo_user_is_shown_works(app, db, client, email, lang):
    from incubator.demo import DEMO_PASSWORD, seed

    seed()
    db.session.commit()
    client.set_cookie("lang", lang)
    login(client, email, DEMO_PASSWORD)
    english, chinese = interface_messages()
    seen, broken = crawl(client, "/dashboard", english if lang == "zh_CN" else chinese)
    assert len(seen) > 5
    assert not broken, "\n".join(f"{what} {path} (linked from {source})" for path, source, what in broken)

