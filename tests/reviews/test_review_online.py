"""The review with an OpenAI key, against the local fake of the Responses API: nothing is
sent before the player's consent (asked first, or refused: offline); with it, the model's
sections come back in the review; a failing model leaves the offline review."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from codebattle.config import Settings
from codebattle.reviews import online, service
from tests.reviews.support import (
    SECRET_FEEDBACK,
    plant_secret_feedback,
    player,
    secret_test_names,
    set_user,
    submit,
    wait_review,
)
from tests.support.fake_openai import FakeOpenAI
from tests.support.hosts import PROBLEMS
from tests.support.site import import_problems, settings_for

MODEL_REVIEW = {
    "correctness": ["Line 5 assigns unused_total and never reads it."],
    "complexity": ["O(1): two numbers are read and added."],
    "style": ["Drop the unused variable."],
    "approach": ["Already the simplest approach."],
}


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as server:
        server.set_answer("```json\n" + json.dumps(MODEL_REVIEW) + "\n```\n")
        yield server


@pytest.fixture
def app_settings(tmp_path: Path, sqlite_url: str, fake: FakeOpenAI) -> Settings:
    settings = settings_for(
        tmp_path, DATABASE_URL=sqlite_url.replace("+aiosqlite", ""),
        OPENAI_API_KEY=fake.api_key, OPENAI_BASE_URL=fake.base_url, OPENAI_MODEL="gpt-5",
        OPENAI_TIMEOUT_SECONDS=5, MOCK_GPT5=False,
    )  # fmt: skip
    import_problems(settings, "hello-battle")
    return settings


def test_consent_is_asked_first_and_nothing_is_sent_without_it(
    client: TestClient, app_settings: Settings, fake: FakeOpenAI
) -> None:
    headers = player(client, app_settings, "careful", "pro")
    done = submit(client, headers)
    page = client.get(f"/submissions/{done['id']}/review").text
    assert 'id="review-consent-yes"' in page and 'id="review-consent-no"' in page
    asked = client.post(f"/api/submissions/{done['id']}/review", headers=headers)
    assert asked.status_code == 409
    assert asked.json()["error"]["code"] == "review_consent_needed"
    # "No": the offline review, and the model hears nothing.
    asked = client.post(
        f"/api/submissions/{done['id']}/review", json={"consent": False}, headers=headers
    )
    assert asked.status_code in (200, 202), asked.text
    review = wait_review(client, done["id"])
    assert review["status"] == "ready" and review["source"] == "offline"
    assert fake.requests == []
    assert "Now: no, offline reviews only." in client.get("/settings").text


def test_with_consent_the_model_writes_the_review(
    client: TestClient, app_settings: Settings, fake: FakeOpenAI
) -> None:
    headers = player(client, app_settings, "willing", "pro")
    done = submit(client, headers)
    plant_secret_feedback(app_settings, done["id"])
    # The consent form on the page (a plain form post).
    page = client.get(f"/submissions/{done['id']}/review").text
    csrf = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    posted = client.post(
        f"/submissions/{done['id']}/review",
        data={"csrf_token": csrf, "consent": "yes"},
        follow_redirects=False,
    )
    assert posted.status_code == 303
    review = wait_review(client, done["id"])
    assert review["source"] == "openai", review
    assert review["body"]["sections"] == MODEL_REVIEW
    assert any(f["code"] == "F841" for f in review["body"]["lint"]["findings"])
    [request] = fake.requests
    sent = request.body["input"]
    assert "unused_total" in sent and "Problem statement" in sent and "F841" in sent
    assert SECRET_FEEDBACK not in json.dumps(request.body)
    secret_in = (PROBLEMS / "hello-battle" / "data" / "secret" / "13-random-1.in").read_text()
    assert secret_in.strip() not in json.dumps(request.body)
    # The timing figures name tests as players see them (`secret/17`), not by file name.
    assert review["body"]["complexity"]["tests"]
    for name in secret_test_names():
        assert name not in json.dumps(request.body), name
    assert request.body["model"] == "gpt-5"
    assert "Already the simplest approach." in client.get(f"/submissions/{done['id']}/review").text


def test_a_failing_model_leaves_the_offline_review(
    client: TestClient, app_settings: Settings, fake: FakeOpenAI
) -> None:
    fake.set_default("500")
    headers = player(client, app_settings, "unlucky", "pro", review_consent=True)
    done = submit(client, headers)
    client.post(f"/api/submissions/{done['id']}/review", headers=headers)
    review = wait_review(client, done["id"])
    assert review["status"] == "ready" and review["source"] == "offline"
    assert review["body"]["sections"]["correctness"]
    assert review["body"]["model_failed"] is True  # and the page says so
    assert (
        "The AI model could not be reached" in client.get(f"/submissions/{done['id']}/review").text
    )
    assert len(fake.requests) == 2  # one retry at most


def test_withdrawn_consent_sends_nothing(
    client: TestClient, app_settings: Settings, fake: FakeOpenAI
) -> None:
    headers = player(client, app_settings, "changed", "pro", review_consent=True)
    page = client.get("/settings").text
    assert 'id="review-consent"' in page and "Now: yes" in page
    csrf = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    saved = client.post(
        "/settings/review-consent",
        data={"csrf_token": csrf, "consent": "no"},
        follow_redirects=False,
    )
    assert saved.status_code == 303
    done = submit(client, headers)
    client.post(f"/api/submissions/{done['id']}/review", headers=headers)
    assert wait_review(client, done["id"])["source"] == "offline"
    assert fake.requests == []


def test_consent_withdrawn_during_the_analysis_sends_nothing(
    client: TestClient, app_settings: Settings, fake: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Consent is read again just before the call: a withdrawal while the review waited
    for a slot or ran the analysis (minutes) stops the code from leaving."""
    headers = player(client, app_settings, "wavering", "pro", review_consent=True)
    done = submit(client, headers)
    analyse = service.analyse

    def analyse_then_withdraw(*args: Any, **kwargs: Any) -> Any:
        found = analyse(*args, **kwargs)
        set_user(app_settings, "wavering", review_consent=False)  # the settings page, meanwhile
        return found

    monkeypatch.setattr(service, "analyse", analyse_then_withdraw)
    asked = client.post(f"/api/submissions/{done['id']}/review", headers=headers)
    assert asked.json()["source"] == "openai"  # consent was given when it was asked for
    review = wait_review(client, done["id"])
    assert review["status"] == "ready" and review["source"] == "offline"
    assert fake.requests == []


def test_answers_that_are_not_the_object_are_refused() -> None:
    assert online.parse("no json here") is None
    assert online.parse('{"other": 1}') is None
    parsed = online.parse('Sure!\n{"style": ["a", 3, "  "], "approach": "x"}')
    assert parsed == {"correctness": [], "complexity": [], "style": [{"text": "a"}],
                      "approach": []}  # fmt: skip
