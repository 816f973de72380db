"""The app's JSON answers (backend.json_provider): orjson writes the bytes Flask's own provider
wrote, and hands it what it writes differently or not at all."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import date, datetime
from decimal import Decimal

import pytest
from flask.json.provider import DefaultJSONProvider


@dataclasses.dataclass
class Offer:
    code: str
    percent: int


ANSWERS = [
    {"b": 1, "a": [1, 2.5, None, True, 1e100, 0.1 + 0.2], "c": {"z": 1, "y": (2, 3)}},
    {"text": 'کد تخفیف <b> "quoted" \\ \u2028 \x00 😀'},
    {"at": datetime(2026, 1, 2, 3, 4, 5), "on": date(2026, 1, 2)},
    {"price": Decimal("1.50"), "id": uuid.UUID(int=5), "offer": Offer("C1", 10)},
    {10: "number keys", 9: "sorted as numbers"},
    {"big": 2**70},
    [Offer("C2", 5)],
]


@pytest.mark.parametrize("value", ANSWERS, ids=range(len(ANSWERS)))
def test_an_answer_is_written_as_flask_wrote_it(app, value):
    flask_own = DefaultJSONProvider(app)
    flask_own.ensure_ascii = False  # as the API sets it
    with app.test_request_context():
        assert app.json.response(value).get_data() == flask_own.response(value).get_data()


def test_what_cannot_be_written_fails_as_before(app):
    with app.test_request_context(), pytest.raises(TypeError):
        app.json.response({"tags": {"a", "b"}})


def test_a_posted_event_is_answered_in_json(api):
    event = {"event_type": "MESSAGE_RECEIVED", "data": {"content": "کد تخفیف"}, "user_id": "c1"}
    answer = api.post("/triggers/process_event/", event)
    assert answer.status_code == 202 and answer.mimetype == "application/json"
    assert answer.get_data().startswith(b'{"duplicate":false,"event_id":')


def test_orjson_writes_the_answers(app, api, monkeypatch):
    from backend import json_provider

    written = []
    real = json_provider.orjson.dumps

    def dumps(value, **kwargs):
        written.append(value)
        return real(value, **kwargs)

    monkeypatch.setattr(json_provider.orjson, "dumps", dumps)
    api.get("/workflows/")
    assert written, "the answer was written by the standard library"
