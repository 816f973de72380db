"""Login / logout and the shell page."""

from __future__ import annotations

from apikit import simple_graph


def test_login_page_and_wrong_password(editor, client):
    page = client.get("/login")
    assert page.status_code == 200 and b'name="password"' in page.data
    wrong = client.post("/login", data={"email": "editor@example.com", "password": "nope"})
    assert wrong.status_code == 401 and b"Wrong email or password" in wrong.data
    assert client.get("/").status_code == 302


def test_login_shell_and_logout(editor, client):
    editor.post("/workflows/", {"name": "کمپین تخفیف", "graph": simple_graph()})
    resp = client.post(
        "/login?next=/", data={"email": "EDITOR@example.com", "password": "password123"}
    )
    assert resp.status_code == 302 and resp.headers["Location"] == "/"
    shell = client.get("/").get_data(as_text=True)
    assert 'id="app"' in shell and 'data-api-base="/api/v1/workflow/api"' in shell
    assert "کمپین تخفیف" in shell and "/export/" in shell and 'dir="auto"' in shell
    assert client.post("/logout").status_code == 302
    assert client.get("/").status_code == 302


def test_login_refuses_offsite_next(editor, client):
    resp = client.post(
        "/login?next=//evil.example/x",
        data={"email": "editor@example.com", "password": "password123"},
    )
    assert resp.headers["Location"] == "/"


def test_empty_shell_explains_how_to_start(editor, client):
    client.post("/login", data={"email": "editor@example.com", "password": "password123"})
    assert "setup-sample-workflows" in client.get("/").get_data(as_text=True)


def test_stylesheet_is_served(client, seeded):
    resp = client.get("/static/css/app.css")
    assert resp.status_code == 200 and b"--accent" in resp.data


def test_workflow_picture_shows_the_graph_and_the_latest_run(editor, client):
    wf = editor.post("/workflows/", {"name": "Pic", "graph": simple_graph()}).json
    client.post("/login", data={"email": "editor@example.com", "password": "password123"})
    assert f"/workflows/{wf['id']}/picture.svg" in client.get("/").get_data(as_text=True)
    resp = client.get(f"/workflows/{wf['id']}/picture.svg")
    assert resp.status_code == 200 and resp.mimetype == "image/svg+xml"
    svg = resp.get_data(as_text=True)
    assert "start · message_received" in svg and "send · send_message" in svg
    assert client.get("/workflows/999999/picture.svg").status_code == 404
    client.post("/logout")
    assert client.get(f"/workflows/{wf['id']}/picture.svg").status_code == 302
