from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from incubator.applications.models import Application
from incubator.enums import Role
from tests.conftest import CSRF_RE, login

from .helpers import open_competition

text = st.one_of(
    st.text(max_size=50),
    st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x1F), max_size=20),  # control characters
    st.text(min_size=150, max_size=6000),  # longer than every limit
    st.sampled_from(["", " ", "0", "-1", "999999999999999999999", "1e9", "NaN", "\x00", "柔性电子", "<script>"]),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.fixed_dictionaries({}, optional={
    "project_name": text, "track_id": text, "one_line_pitch": text, "description": text, "stage": text,
    "action": st.sampled_from(["next", "save", "back", "weird"]),
}))
def test_project_step_fuzzed_never_500(client, db, make_user, data):
    if not db.session.scalar(db.select(Application.id)):
        comp = open_competition(db, questions=False)
        founder = make_user(Role.FOUNDER, email="fuzz@example.cn")
        login(client, founder)
        client.post(f"/apply/{comp.id}/new", data={"project_name": "起点", "action": "save",
                                                 "csrf_token": CSRF_RE.search(client.get(f"/apply/{comp.id}/new").get_data(as_text=True)).group(1)})
    app_id = db.session.scalar(db.select(Application.id))
    url = f"/applications/{app_id}/project"
    token = CSRF_RE.search(client.get(url).get_data(as_text=True)).group(1)
    response = client.post(url, data={**data, "csrf_token": token})
    assert response.status_code in (200, 302, 400), response.status_code
    db.session.expire_all()
    saved = db.session.get(Application, app_id)
    assert saved.status == "draft" and len(saved.project_name) <= 120 and len(saved.one_line_pitch) <= 140
    assert not any(ord(c) < 32 and c not in "\n\r\t" for c in saved.project_name + saved.description)
