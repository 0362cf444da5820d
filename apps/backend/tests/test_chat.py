"""The assistant: the tool loop, persistence, and every way the model can fail.

The LLM is FAKED: a hosted model cannot exist in this test environment, so
tests.servers.FakeLLM, a small local OpenAI-compatible server, replays scripted
replies and tool calls. The tool execution, the database, auth and the HTTP
client around it are all real.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import httpx
import pytest

from tests.conftest import make_settings, sql
from tests.servers import FakeLLM, JwksServer, RunningApp


def chat(api: httpx.Client, user_id: str, auth: dict[str, str], message: str, conversation_id: int | None = None):
    body: dict[str, object] = {"message": message}
    if conversation_id is not None:
        body["conversation_id"] = conversation_id
    return api.post(f"/api/{user_id}/chat", json=body, headers=auth)


def messages_of(database_url: str, conversation_id: int) -> list[tuple[str, str]]:
    rows = sql(
        database_url, "SELECT role, content FROM messages WHERE conversation_id = $1 ORDER BY id", conversation_id
    )
    return [(row["role"], row["content"]) for row in rows]


def test_tool_loop_runs_real_tools(
    api: httpx.Client, user_id: str, auth: dict[str, str], llm: FakeLLM, database_url: str
) -> None:
    llm.reply_tool_calls(
        ("add_task", {"title": "Buy milk"}), ("add_task", {"title": "Call mum", "description": "Sunday"})
    )
    llm.reply_tool_calls(("list_tasks", {"status": "pending"}))
    llm.reply_text("Added 'Buy milk' and 'Call mum'. You have 2 pending tasks.")

    response = chat(api, user_id, auth, "Remind me to buy milk and to call mum on Sunday")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["response"] == "Added 'Buy milk' and 'Call mum'. You have 2 pending tasks."
    assert [call["name"] for call in body["tool_calls"]] == ["add_task", "add_task", "list_tasks"]
    assert body["tool_calls"][0]["arguments"] == {"title": "Buy milk"}
    assert [t["title"] for t in body["tool_calls"][2]["result"]["tasks"]] == ["Buy milk", "Call mum"]

    # The tools really changed this user's tasks.
    tasks = api.get(f"/api/{user_id}/tasks", headers=auth).json()
    assert [(t["title"], t["description"]) for t in tasks] == [("Buy milk", None), ("Call mum", "Sunday")]

    # The model was offered the five tools and saw the tool results.
    first, _, third = llm.requests
    assert {t["function"]["name"] for t in first["tools"]} == {
        "add_task",
        "list_tasks",
        "complete_task",
        "delete_task",
        "update_task",
    }
    assert first["model"] == "fake-model"
    assert llm.authorization[0] == "Bearer sk-test-not-a-real-key"
    assert [m["role"] for m in third["messages"]][-2:] == ["assistant", "tool"]
    assert '"Call mum"' in third["messages"][-1]["content"]

    # History is in the database: the user's message and the reply with its tool calls.
    stored = messages_of(database_url, body["conversation_id"])
    assert stored == [
        ("user", "Remind me to buy milk and to call mum on Sunday"),
        ("assistant", body["response"]),
    ]


def test_conversation_continues_from_stored_history(
    api: httpx.Client, user_id: str, auth: dict[str, str], llm: FakeLLM
) -> None:
    llm.reply_text("Hello! How can I help?")
    first = chat(api, user_id, auth, "Hi").json()
    llm.reply_tool_calls(("complete_task", {"task_id": 2_000_000_000}))
    llm.reply_text("I could not find that task.")
    second = chat(api, user_id, auth, "Complete task 2000000000", first["conversation_id"])
    assert second.status_code == 200, second.text
    assert second.json()["conversation_id"] == first["conversation_id"]
    assert second.json()["tool_calls"][0]["result"] == {"error": "task 2000000000 not found"}
    # The stateless server rebuilt the conversation from the database.
    sent = [(m["role"], m["content"]) for m in llm.requests[1]["messages"][1:]]
    assert sent == [("user", "Hi"), ("assistant", "Hello! How can I help?"), ("user", "Complete task 2000000000")]


def test_tools_only_touch_the_callers_tasks(
    api: httpx.Client, jwks: JwksServer, llm: FakeLLM, user_id: str, auth: dict[str, str]
) -> None:
    other = uuid.uuid4().hex
    other_auth = jwks.auth(other)
    victim = api.post(f"/api/{other}/tasks", json={"title": "other's task"}, headers=other_auth).json()
    llm.reply_tool_calls(
        ("delete_task", {"task_id": victim["id"]}),
        ("update_task", {"task_id": victim["id"], "title": "hijacked"}),
        ("complete_task", {"task_id": victim["id"]}),
    )
    llm.reply_tool_calls(("list_tasks", {}))
    llm.reply_text("Done.")
    body = chat(api, user_id, auth, "delete their task").json()
    assert [call["result"] for call in body["tool_calls"][:3]] == [{"error": f"task {victim['id']} not found"}] * 3
    assert body["tool_calls"][3]["result"] == {"tasks": []}
    assert api.get(f"/api/{other}/tasks/{victim['id']}", headers=other_auth).json() == victim


def test_bad_tool_arguments_are_reported_to_the_model(
    api: httpx.Client, user_id: str, auth: dict[str, str], llm: FakeLLM
) -> None:
    llm.reply_tool_calls(("add_task", {"title": ""}), ("add_task", {"titel": "typo"}), ("launch_rocket", {}))
    llm.reply_text("Sorry, I could not add that.")
    body = chat(api, user_id, auth, "add an empty task").json()
    errors = [call["result"]["error"] for call in body["tool_calls"]]
    assert errors[0].startswith("invalid arguments for add_task: title:")
    assert "titel" in errors[1]
    assert errors[2].startswith("unknown tool 'launch_rocket'")
    assert api.get(f"/api/{user_id}/tasks", headers=auth).json() == []


def test_tool_rounds_are_bounded(api: httpx.Client, user_id: str, auth: dict[str, str], llm: FakeLLM) -> None:
    for _ in range(5):
        llm.reply_tool_calls(("list_tasks", {}))
    llm.reply_text("Here you go.")
    body = chat(api, user_id, auth, "list forever").json()
    assert body["response"] == "Here you go."
    assert len(body["tool_calls"]) == 5
    assert "tools" not in llm.requests[-1]


def test_llm_failure_is_502_and_keeps_only_the_users_message(
    api: httpx.Client, user_id: str, auth: dict[str, str], llm: FakeLLM, database_url: str
) -> None:
    llm.reply_tool_calls(("add_task", {"title": "half-done"}))
    llm.reply_error(500, "model overloaded")
    response = chat(api, user_id, auth, "add a task please")
    assert response.status_code == 502
    detail = response.json()["detail"]
    assert "HTTP 500: model overloaded" in detail and "your message was saved" in detail
    conversation = sql(database_url, "SELECT id FROM conversations WHERE user_id = $1", user_id)[0]["id"]
    assert messages_of(database_url, conversation) == [("user", "add a task please")]
    # The tool call of the failed turn was rolled back with it.
    assert api.get(f"/api/{user_id}/tasks", headers=auth).json() == []


def test_llm_garbage_is_502(api: httpx.Client, user_id: str, auth: dict[str, str], llm: FakeLLM) -> None:
    llm.script.append({"unexpected": "shape"})
    response = chat(api, user_id, auth, "hello")
    assert response.status_code == 502
    assert "without choices[0].message" in response.json()["detail"]


def test_llm_timeout_is_504(
    api: httpx.Client, user_id: str, auth: dict[str, str], llm: FakeLLM, database_url: str
) -> None:
    llm.delay = 7  # beyond the app's CHAT_TIMEOUT_SECONDS of 5
    llm.reply_text("too late")
    started = time.monotonic()
    response = chat(api, user_id, auth, "are you there?")
    assert response.status_code == 504
    assert time.monotonic() - started < 7
    assert "did not answer" in response.json()["detail"]
    conversation = sql(database_url, "SELECT id FROM conversations WHERE user_id = $1", user_id)[0]["id"]
    assert messages_of(database_url, conversation) == [("user", "are you there?")]


def test_llm_unreachable_is_502(
    database_url: str, jwks: JwksServer, llm: FakeLLM, user_id: str, auth: dict[str, str]
) -> None:
    dead = "http://127.0.0.1:9/v1"  # discard port: nothing listens
    app = RunningApp(make_settings(database_url, jwks, llm, openai_base_url=dead)).start()
    try:
        response = httpx.post(f"{app.url}/api/{user_id}/chat", json={"message": "hi"}, headers=auth, timeout=30)
    finally:
        app.stop()
    assert response.status_code == 502
    assert "cannot reach the language model at http://127.0.0.1:9/v1" in response.json()["detail"]


def test_unknown_or_foreign_conversation_is_404(
    api: httpx.Client, jwks: JwksServer, llm: FakeLLM, user_id: str, auth: dict[str, str]
) -> None:
    llm.reply_text("hi")
    mine = chat(api, user_id, auth, "hello").json()["conversation_id"]
    intruder = uuid.uuid4().hex
    response = chat(api, intruder, jwks.auth(intruder), "what did they say?", mine)
    assert response.status_code == 404
    assert response.json()["detail"] == f"conversation {mine} not found"
    assert chat(api, user_id, auth, "hello", 2_000_000_000).status_code == 404
    assert len(llm.requests) == 1


def test_chat_input_validation(api: httpx.Client, user_id: str, auth: dict[str, str], jwks: JwksServer) -> None:
    url = f"/api/{user_id}/chat"
    assert api.post(url, json={}, headers=auth).status_code == 422
    assert api.post(url, json={"message": "  "}, headers=auth).status_code == 422
    assert api.post(url, json={"message": "x" * 4001}, headers=auth).status_code == 422
    invalid = api.post(url, content=b"{nope", headers={**auth, "content-type": "application/json"})
    assert invalid.status_code == 422
    assert api.post(url, json={"message": "hi"}).status_code == 401
    assert api.post(url, json={"message": "hi"}, headers=jwks.auth("someone-else")).status_code == 403


@pytest.fixture
def unconfigured_app(database_url: str, jwks: JwksServer, llm: FakeLLM) -> Iterator[RunningApp]:
    app = RunningApp(make_settings(database_url, jwks, llm, openai_api_key=None)).start()
    yield app
    app.stop()


def test_without_api_key_chat_is_503_and_the_rest_works(
    unconfigured_app: RunningApp, user_id: str, auth: dict[str, str], llm: FakeLLM, database_url: str
) -> None:
    with httpx.Client(base_url=unconfigured_app.url, timeout=30) as client:
        response = client.post(f"/api/{user_id}/chat", json={"message": "hi"}, headers=auth)
        assert response.status_code == 503
        assert response.json() == {
            "detail": "the AI assistant is not configured on this server (OPENAI_API_KEY is not set)",
            "code": "assistant_not_configured",
        }
        assert client.post(f"/api/{user_id}/tasks", json={"title": "still works"}, headers=auth).status_code == 201
    assert llm.requests == []
    assert sql(database_url, "SELECT count(*) AS n FROM conversations WHERE user_id = $1", user_id)[0]["n"] == 0
