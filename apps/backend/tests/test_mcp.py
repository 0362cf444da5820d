"""The MCP server at /mcp, driven by the official MCP client over streamable HTTP."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import httpx
import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from tests.servers import JwksServer, RunningApp


async def _session(url: str, headers: dict[str, str], work: Any) -> Any:
    async with httpx2.AsyncClient(headers=headers, timeout=30) as http:
        async with Client(streamable_http_client(f"{url}/mcp", http_client=http)) as client:
            return await work(client)


def run(url: str, headers: dict[str, str], work: Any) -> Any:
    return asyncio.run(_session(url, headers, work))


def payload(result: Any) -> Any:
    assert result.content[0].type == "text"
    return json.loads(result.content[0].text)


def test_lists_the_five_task_tools(running_app: RunningApp, auth: dict[str, str]) -> None:
    async def work(client: Client) -> list[Any]:
        return (await client.list_tools()).tools

    tools = {tool.name: tool for tool in run(running_app.url, auth, work)}
    metrics = httpx.get(f"{running_app.url}/metrics").text
    assert 'taskflow_http_requests_total{method="POST",route="/mcp",status="200"}' in metrics
    assert set(tools) == {"add_task", "list_tasks", "complete_task", "delete_task", "update_task"}
    assert tools["add_task"].input_schema["required"] == ["title"]
    assert tools["complete_task"].input_schema["properties"]["task_id"]["type"] == "integer"


def test_tools_act_for_the_tokens_user(
    running_app: RunningApp, api: httpx.Client, user_id: str, auth: dict[str, str]
) -> None:
    async def work(client: Client) -> dict[str, Any]:
        added = payload(await client.call_tool("add_task", {"title": "From MCP", "description": "via tools"}))
        task_id = added["task"]["id"]
        updated = payload(await client.call_tool("update_task", {"task_id": task_id, "title": "Renamed"}))
        completed = payload(await client.call_tool("complete_task", {"task_id": task_id}))
        listed = payload(await client.call_tool("list_tasks", {"status": "completed"}))
        missing = await client.call_tool("delete_task", {"task_id": 2_000_000_000})
        invalid = await client.call_tool("add_task", {"title": ""})
        return {
            "added": added,
            "updated": updated,
            "completed": completed,
            "listed": listed,
            "missing": (missing.is_error, payload(missing)),
            "invalid": (invalid.is_error, payload(invalid)),
        }

    out = run(running_app.url, auth, work)
    task = out["completed"]["task"]
    assert out["added"]["task"]["user_id"] == user_id
    assert out["updated"]["task"]["title"] == "Renamed"
    assert task["completed"] is True
    assert out["listed"]["tasks"] == [task]
    assert out["missing"] == (True, {"error": "task 2000000000 not found"})
    assert out["invalid"][0] is True and "invalid arguments for add_task" in out["invalid"][1]["error"]
    # Committed: the REST API sees the same task.
    assert api.get(f"/api/{user_id}/tasks/{task['id']}", headers=auth).json() == task

    async def delete(client: Client) -> Any:
        return payload(await client.call_tool("delete_task", {"task_id": task["id"]}))

    assert run(running_app.url, auth, delete)["deleted"]["id"] == task["id"]
    assert api.get(f"/api/{user_id}/tasks", headers=auth).json() == []


def test_users_are_isolated_over_mcp(running_app: RunningApp, api: httpx.Client, jwks: JwksServer) -> None:
    owner, intruder = uuid.uuid4().hex, uuid.uuid4().hex
    task = api.post(f"/api/{owner}/tasks", json={"title": "private"}, headers=jwks.auth(owner)).json()

    async def work(client: Client) -> list[Any]:
        return [
            payload(await client.call_tool("list_tasks", {})),
            payload(await client.call_tool("complete_task", {"task_id": task["id"]})),
            payload(await client.call_tool("delete_task", {"task_id": task["id"]})),
        ]

    listed, completed, deleted = run(running_app.url, jwks.auth(intruder), work)
    assert listed == {"tasks": []}
    assert completed == deleted == {"error": f"task {task['id']} not found"}
    assert api.get(f"/api/{owner}/tasks/{task['id']}", headers=jwks.auth(owner)).json() == task


def test_mcp_requires_a_valid_token(running_app: RunningApp, jwks: JwksServer) -> None:
    initialize = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}},
    }
    headers = {"accept": "application/json, text/event-stream"}
    url = f"{running_app.url}/mcp"
    missing = httpx.post(url, json=initialize, headers=headers)
    assert missing.status_code == 401
    assert "missing Authorization header" in missing.json()["detail"]
    expired = jwks.token("u", lifetime=-60)
    response = httpx.post(url, json=initialize, headers={**headers, "Authorization": f"Bearer {expired}"})
    assert response.status_code == 401
    assert response.json()["detail"] == "token has expired"
    wrong_audience = jwks.token("u", aud="elsewhere")
    response = httpx.post(url, json=initialize, headers={**headers, "Authorization": f"Bearer {wrong_audience}"})
    assert response.status_code == 401
