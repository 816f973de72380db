"""Login / logout, the app page (every editor URL) and the workflow picture."""

from __future__ import annotations

from apikit import simple_graph


def test_login_page_and_wrong_password(editor, client):
    page = client.get("/login")
    assert page.status_code == 200 and b'name="password"' in page.data
    wrong = client.post("/login", data={"email": "editor@example.com", "password": "nope"})
    assert wrong.status_code == 401 and b"Wrong email or password" in wrong.data
    assert client.get("/").status_code == 302


def test_login_lands_on_the_app_page_and_logout(editor, client):
    resp = client.post(
        "/login?next=/", data={"email": "EDITOR@example.com", "password": "password123"}
    )
    assert resp.status_code == 302 and resp.headers["Location"] == "/"
    home = client.get("/")
    assert home.status_code == 302 and home.headers["Location"] == "/workflows"
    page = client.get("/workflows").get_data(as_text=True)
    assert 'id="app"' in page and 'data-api-base="/api/v1/workflow/api"' in page
    assert 'data-csrf="' in page and 'data-user-role="editor"' in page
    assert client.post("/logout").status_code == 302
    assert client.get("/workflows").status_code == 302


def test_every_app_url_serves_the_app_page_behind_the_login(editor, client):
    paths = ["/workflows", "/workflows/7", "/workflows/7/runs/3", "/contacts", "/contacts/5"]
    for path in paths:
        assert client.get(path).status_code == 302, path  # to the login page
    client.post("/login", data={"email": "editor@example.com", "password": "password123"})
    for path in paths:
        resp = client.get(path)
        assert resp.status_code == 200 and 'id="app"' in resp.get_data(as_text=True), path
    assert client.get("/workflows/not-a-number").status_code == 404


def test_app_page_loads_the_built_bundle_from_the_manifest(editor, client, app, tmp_path):
    import json

    from backend import bundle

    dist = tmp_path / "dist"
    (dist / ".vite").mkdir(parents=True)
    manifest = {
        "index.html": {
            "file": "assets/index-abc.js",
            "css": ["assets/index-abc.css"],
            "imports": ["_vendor.js"],
            "isEntry": True,
        },
        "_vendor.js": {"file": "assets/vendor-def.js"},
    }
    (dist / ".vite" / "manifest.json").write_text(json.dumps(manifest))
    client.post("/login", data={"email": "editor@example.com", "password": "password123"})
    static_folder = app.static_folder
    app.static_folder = str(tmp_path)
    try:
        page = client.get("/workflows").get_data(as_text=True)
    finally:
        app.static_folder = static_folder
        bundle._cache.clear()
    assert '<script type="module" src="/static/dist/assets/index-abc.js">' in page
    assert 'href="/static/dist/assets/index-abc.css"' in page
    assert '<link rel="modulepreload" href="/static/dist/assets/vendor-def.js">' in page
    assert "not built yet" not in page


def test_session_json_gives_the_csrf_token(editor, client):
    assert client.get("/session.json").status_code == 302
    client.post("/login", data={"email": "editor@example.com", "password": "password123"})
    info = client.get("/session.json").json
    assert info["email"] == "editor@example.com" and info["role"] == "editor"
    assert len(info["csrf_token"]) > 20


def test_login_refuses_offsite_next(editor, client):
    resp = client.post(
        "/login?next=//evil.example/x",
        data={"email": "editor@example.com", "password": "password123"},
    )
    assert resp.headers["Location"] == "/workflows"


def test_stylesheet_is_served(client, seeded):
    resp = client.get("/static/css/app.css")
    assert resp.status_code == 200 and b"--accent" in resp.data


def test_workflow_picture_shows_the_graph_and_the_latest_run(editor, client):
    wf = editor.post("/workflows/", {"name": "Pic", "graph": simple_graph()}).json
    client.post("/login", data={"email": "editor@example.com", "password": "password123"})
    resp = client.get(f"/workflows/{wf['id']}/picture.svg")
    assert resp.status_code == 200 and resp.mimetype == "image/svg+xml"
    svg = resp.get_data(as_text=True)
    assert "start · message_received" in svg and "send · send_message" in svg
    assert client.get("/workflows/999999/picture.svg").status_code == 404
    client.post("/logout")
    assert client.get(f"/workflows/{wf['id']}/picture.svg").status_code == 302
