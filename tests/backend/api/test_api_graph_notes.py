"""The editor's sticky notes travel inside the graph (``ui.notes``): saved, exported, validated."""

from __future__ import annotations

from apikit import simple_graph

NOTE = {
    "id": "note",
    "text": "کد تخفیف: ask Sara first",
    "position": {"x": 10, "y": -20},
    "width": 220,
    "height": 120,
}


def test_notes_are_saved_exported_and_imported(editor):
    graph = {**simple_graph(), "ui": {"notes": [NOTE]}}
    wf = editor.post("/workflows/", {"name": "Noted", "graph": graph})
    assert wf.status_code == 201, wf.json
    assert wf.json["validation"] == {"ok": True, "errors": [], "warnings": []}
    saved = editor.put(f"/workflows/{wf.json['id']}/", {"name": "Noted", "graph": graph})
    assert saved.status_code == 200 and saved.json["graph"]["ui"] == {"notes": [NOTE]}
    exported = editor.get(f"/workflows/{wf.json['id']}/export/").json
    assert exported["ui"] == {"notes": [NOTE]}
    imported = editor.post("/workflows/import/", exported)
    assert imported.status_code == 201 and imported.json["graph"]["ui"] == {"notes": [NOTE]}


def test_a_malformed_note_is_a_validation_error_naming_its_path(editor):
    graph = {
        **simple_graph(),
        "ui": {"notes": [{"id": "n", "text": 5, "position": {"x": 0, "y": 0}}]},
    }
    report = editor.post("/workflows/validate/", graph).json
    assert report["ok"] is False
    assert [(e["code"], e["field"]) for e in report["errors"]] == [("bad_ui", "ui.notes[0].text")]
    refused = editor.post("/workflows/", {"name": "x", "graph": {**simple_graph(), "ui": []}})
    assert refused.status_code == 400 and "ui" in str(refused.json)
