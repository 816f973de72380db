"""The explain and wake-ups pages (app pages behind the login), the top bar's link to the
wake-ups, the page bootstrap's outbound mode, and the event log's link to explain an event."""

from __future__ import annotations


def _sign_in(client, email: str) -> None:
    client.post("/login", data={"email": email, "password": "password123"})


def test_explain_and_wakeups_are_app_pages_behind_the_login(editor, client, app):
    paths = ["/contacts/5/explain", "/contacts/5/explain?event=9", "/wake-ups"]
    for path in paths:
        assert client.get(path).status_code == 302, path
    _sign_in(client, "editor@example.com")
    for path in paths:
        page = client.get(path).get_data(as_text=True)
        assert 'id="app"' in page, path
    assert 'href="/wake-ups"' in page  # the top bar links to the wake-ups
    assert 'data-outbound-mode="capture"' in page  # the app reads the mode from its bootstrap
    assert client.get("/contacts/x/explain").status_code == 404


def test_the_event_log_links_each_contacts_event_to_its_explanation(admin, client, app):
    from backend.extensions import db
    from backend.models import Contact, EventLog

    contact = Contact(external_id="sara", channel_ids={}, fields={})
    db.session.add(contact)
    db.session.flush()
    ev = EventLog(
        event_type="MESSAGE_RECEIVED",
        idempotency_key="k1",
        user_id="sara",
        contact_id=contact.id,
        payload={"data": {"content": "hi"}},
        status="processed",
    )
    stray = EventLog(event_type="PING", idempotency_key="k2", user_id="nobody", payload={})
    db.session.add_all([ev, stray])
    db.session.commit()
    _sign_in(client, "admin@example.com")
    page = client.get("/admin/eventlog/").get_data(as_text=True)
    assert f'href="/contacts/{contact.id}/explain?event={ev.id}"' in page
    assert page.count('class="explain-link"') == 1  # no contact, no link
