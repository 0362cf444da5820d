"""The tasks API: every endpoint, validation errors, and per-user isolation."""

from __future__ import annotations

import uuid

import httpx

from app.models import DESCRIPTION_MAX, TITLE_MAX
from tests.servers import JwksServer


def create(api: httpx.Client, user_id: str, auth: dict[str, str], **body: object) -> dict:
    response = api.post(f"/api/{user_id}/tasks", json={"title": "Buy milk", **body}, headers=auth)
    assert response.status_code == 201, response.text
    return response.json()


def test_create_read_list(api: httpx.Client, user_id: str, auth: dict[str, str]) -> None:
    assert api.get(f"/api/{user_id}/tasks", headers=auth).json() == []
    task = create(api, user_id, auth, title="  Buy milk  ", description="two litres")
    assert task["title"] == "Buy milk"  # surrounding whitespace is dropped
    assert task["description"] == "two litres"
    assert task["completed"] is False
    assert task["user_id"] == user_id
    assert task["created_at"] and task["updated_at"]

    fetched = api.get(f"/api/{user_id}/tasks/{task['id']}", headers=auth)
    assert fetched.status_code == 200
    assert fetched.json() == task

    second = create(api, user_id, auth, title="Walk the dog")
    listed = api.get(f"/api/{user_id}/tasks", headers=auth).json()
    assert [t["id"] for t in listed] == [task["id"], second["id"]]


def test_update_only_changes_given_fields(api: httpx.Client, user_id: str, auth: dict[str, str]) -> None:
    task = create(api, user_id, auth, description="old")
    response = api.put(f"/api/{user_id}/tasks/{task['id']}", json={"title": "Buy oat milk"}, headers=auth)
    assert response.status_code == 200, response.text
    updated = response.json()
    assert updated["title"] == "Buy oat milk"
    assert updated["description"] == "old"
    assert updated["updated_at"] > task["updated_at"]

    cleared = api.put(
        f"/api/{user_id}/tasks/{task['id']}", json={"description": "", "completed": True}, headers=auth
    ).json()
    assert cleared["description"] is None
    assert cleared["completed"] is True
    assert cleared["title"] == "Buy oat milk"


def test_complete_and_reopen(api: httpx.Client, user_id: str, auth: dict[str, str]) -> None:
    task = create(api, user_id, auth)
    done = api.patch(f"/api/{user_id}/tasks/{task['id']}/complete", headers=auth)
    assert done.status_code == 200, done.text
    assert done.json()["completed"] is True
    # Idempotent: completing a completed task keeps it completed.
    assert api.patch(f"/api/{user_id}/tasks/{task['id']}/complete", headers=auth).json()["completed"] is True
    reopened = api.patch(f"/api/{user_id}/tasks/{task['id']}/complete", json={"completed": False}, headers=auth)
    assert reopened.json()["completed"] is False
    # What browsers' fetch wrappers send: an empty JSON body, or `{}`.
    for extra in (
        {"content": b"", "headers": {**auth, "content-type": "application/json"}},
        {"json": {}, "headers": auth},
    ):
        api.patch(f"/api/{user_id}/tasks/{task['id']}/complete", json={"completed": False}, headers=auth)
        response = api.patch(f"/api/{user_id}/tasks/{task['id']}/complete", **extra)
        assert response.status_code == 200, response.text
        assert response.json()["completed"] is True


def test_status_filter(api: httpx.Client, user_id: str, auth: dict[str, str]) -> None:
    open_task = create(api, user_id, auth, title="open")
    done_task = create(api, user_id, auth, title="done")
    api.patch(f"/api/{user_id}/tasks/{done_task['id']}/complete", headers=auth)

    def ids(status: str) -> list[int]:
        return [t["id"] for t in api.get(f"/api/{user_id}/tasks", params={"status": status}, headers=auth).json()]

    assert ids("pending") == [open_task["id"]]
    assert ids("completed") == [done_task["id"]]
    assert ids("all") == [open_task["id"], done_task["id"]]
    bad = api.get(f"/api/{user_id}/tasks", params={"status": "later"}, headers=auth)
    assert bad.status_code == 422


def test_delete(api: httpx.Client, user_id: str, auth: dict[str, str]) -> None:
    task = create(api, user_id, auth)
    response = api.delete(f"/api/{user_id}/tasks/{task['id']}", headers=auth)
    assert response.status_code == 204
    assert response.content == b""
    assert api.get(f"/api/{user_id}/tasks/{task['id']}", headers=auth).status_code == 404
    assert api.delete(f"/api/{user_id}/tasks/{task['id']}", headers=auth).status_code == 404


def test_invalid_json_is_422_naming_the_problem(api: httpx.Client, user_id: str, auth: dict[str, str]) -> None:
    response = api.post(
        f"/api/{user_id}/tasks",
        content=b'{"title": "unterminated',
        headers={**auth, "content-type": "application/json"},
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == "json_invalid"


def test_oversized_body_is_refused(api: httpx.Client, user_id: str, auth: dict[str, str]) -> None:
    huge = {"title": "x", "description": "d" * (300 * 1024)}
    response = api.post(f"/api/{user_id}/tasks", json=huge, headers=auth)
    assert response.status_code == 413
    assert api.get(f"/api/{user_id}/tasks", headers=auth).json() == []


def test_title_required_nonempty_and_bounded(api: httpx.Client, user_id: str, auth: dict[str, str]) -> None:
    url = f"/api/{user_id}/tasks"
    for body in ({}, {"title": ""}, {"title": "   "}, {"title": "x" * (TITLE_MAX + 1)}, {"title": 5}):
        response = api.post(url, json=body, headers=auth)
        assert response.status_code == 422, (body, response.text)
        assert response.json()["detail"][0]["loc"] == ["body", "title"]
    assert api.post(url, json={"title": "x" * TITLE_MAX}, headers=auth).status_code == 201

    too_long = api.post(url, json={"title": "ok", "description": "d" * (DESCRIPTION_MAX + 1)}, headers=auth)
    assert too_long.status_code == 422
    task = create(api, user_id, auth)
    empty_update = api.put(f"{url}/{task['id']}", json={"title": " "}, headers=auth)
    assert empty_update.status_code == 422
    assert api.get(f"{url}/{task['id']}", headers=auth).json()["title"] == task["title"]


def test_unknown_and_malformed_task_ids(api: httpx.Client, user_id: str, auth: dict[str, str]) -> None:
    base = f"/api/{user_id}/tasks"
    missing = api.get(f"{base}/999999", headers=auth)
    assert missing.status_code == 404
    assert missing.json() == {"detail": "task 999999 not found"}
    assert api.put(f"{base}/999999", json={"title": "x"}, headers=auth).status_code == 404
    assert api.patch(f"{base}/999999/complete", headers=auth).status_code == 404
    assert api.delete(f"{base}/999999", headers=auth).status_code == 404
    # Not a number, or beyond what Postgres can store: rejected before any query.
    for bad in ("abc", "0", "-1", str(2**31), "1.5"):
        assert api.get(f"{base}/{bad}", headers=auth).status_code == 422, bad


def test_users_cannot_see_or_touch_each_others_tasks(api: httpx.Client, jwks: JwksServer) -> None:
    alice, bob = f"alice-{uuid.uuid4().hex[:6]}", f"bob-{uuid.uuid4().hex[:6]}"
    alice_auth, bob_auth = jwks.auth(alice), jwks.auth(bob)
    task = create(api, alice, alice_auth, title="alice's secret")

    # Bob's list is his own.
    assert api.get(f"/api/{bob}/tasks", headers=bob_auth).json() == []
    # Bob asking for Alice's task id under his own path: it does not exist for him.
    for response in (
        api.get(f"/api/{bob}/tasks/{task['id']}", headers=bob_auth),
        api.put(f"/api/{bob}/tasks/{task['id']}", json={"title": "mine now"}, headers=bob_auth),
        api.patch(f"/api/{bob}/tasks/{task['id']}/complete", headers=bob_auth),
        api.delete(f"/api/{bob}/tasks/{task['id']}", headers=bob_auth),
    ):
        assert response.status_code == 404, response.text
    # Bob's token on Alice's path: forbidden, whatever the method.
    for response in (
        api.get(f"/api/{alice}/tasks", headers=bob_auth),
        api.post(f"/api/{alice}/tasks", json={"title": "planted"}, headers=bob_auth),
        api.get(f"/api/{alice}/tasks/{task['id']}", headers=bob_auth),
        api.put(f"/api/{alice}/tasks/{task['id']}", json={"title": "x"}, headers=bob_auth),
        api.patch(f"/api/{alice}/tasks/{task['id']}/complete", headers=bob_auth),
        api.delete(f"/api/{alice}/tasks/{task['id']}", headers=bob_auth),
    ):
        assert response.status_code == 403, response.text
        assert response.json()["detail"] == "the token's subject is not the user_id in the path"
    # Alice's task is untouched.
    assert api.get(f"/api/{alice}/tasks", headers=alice_auth).json() == [task]
