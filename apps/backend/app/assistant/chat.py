"""One assistant turn: a stateless server with the conversation kept in the database.

1. The user's message is stored (committed) before the model is called, so it
   survives any failure below.
2. The model is called with the stored history and the task tools; tool calls
   run for this user and are fed back, for at most MAX_TOOL_ROUNDS rounds.
3. The tools' changes and the assistant's reply are committed together. If the
   model fails or times out, both are rolled back: no half-written turn.
The whole turn is bounded by CHAT_TIMEOUT_SECONDS.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.assistant import llm
from app.assistant.tools import TOOLS, run_tool
from app.core.config import Settings
from app.models import ChatRequest, ChatResponse, Conversation, Message, ToolCallPublic, utcnow

log = logging.getLogger(__name__)

MAX_TOOL_ROUNDS = 5
HISTORY_MESSAGES = 30

SYSTEM_PROMPT = (
    "You are TaskFlow's assistant. You help the user manage their todo list with the tools "
    "add_task, list_tasks, complete_task, delete_task and update_task. Use list_tasks to find "
    "task ids before changing a task. Keep answers short and confirm what you changed."
)


class ConversationNotFound(Exception):
    pass


def openai_tools() -> list[dict[str, Any]]:
    return [
        {"type": "function", "function": {"name": t.name, "description": t.description, "parameters": t.input_schema()}}
        for t in TOOLS.values()
    ]


async def chat_turn(
    sessions: async_sessionmaker[AsyncSession],
    http: httpx.AsyncClient,
    settings: Settings,
    user_id: str,
    request: ChatRequest,
) -> ChatResponse:
    conversation_id, history = await _store_user_message(sessions, user_id, request)
    messages: list[dict[str, Any]] = [{"role": "system", "content": SYSTEM_PROMPT}, *history]

    async with sessions() as session:
        async with asyncio.timeout(settings.chat_timeout_seconds):
            reply, calls = await _tool_loop(session, http, settings, user_id, messages)
        session.add(
            Message(
                conversation_id=conversation_id,
                user_id=user_id,
                role="assistant",
                content=reply,
                tool_calls=[call.model_dump(mode="json") for call in calls] or None,
            )
        )
        conversation = await session.get(Conversation, conversation_id)
        if conversation is not None:
            conversation.updated_at = utcnow()
        await session.commit()
    return ChatResponse(conversation_id=conversation_id, response=reply, tool_calls=calls)


async def _store_user_message(
    sessions: async_sessionmaker[AsyncSession], user_id: str, request: ChatRequest
) -> tuple[int, list[dict[str, Any]]]:
    """Store the user's message; return the conversation id and its history, newest last."""
    async with sessions() as session:
        if request.conversation_id is None:
            conversation = Conversation(user_id=user_id)
            session.add(conversation)
            await session.flush()
        else:
            conversation = (
                await session.exec(
                    select(Conversation).where(
                        Conversation.id == request.conversation_id, Conversation.user_id == user_id
                    )
                )
            ).first()
            if conversation is None:
                raise ConversationNotFound(f"conversation {request.conversation_id} not found")
        assert conversation.id is not None
        conversation.updated_at = utcnow()
        session.add(Message(conversation_id=conversation.id, user_id=user_id, role="user", content=request.message))
        await session.commit()
        rows = await session.exec(
            select(Message)
            .where(Message.conversation_id == conversation.id)
            .order_by(col(Message.id).desc())
            .limit(HISTORY_MESSAGES)
        )
        history = [{"role": m.role, "content": m.content} for m in reversed(rows.all())]
        return conversation.id, history


async def _tool_loop(
    session: AsyncSession,
    http: httpx.AsyncClient,
    settings: Settings,
    user_id: str,
    messages: list[dict[str, Any]],
) -> tuple[str, list[ToolCallPublic]]:
    calls: list[ToolCallPublic] = []
    tools = openai_tools()
    for round_number in range(MAX_TOOL_ROUNDS + 1):
        # The last round offers no tools, so the model has to answer in words.
        offered = tools if round_number < MAX_TOOL_ROUNDS else None
        message = await llm.complete(http, settings, messages, offered)
        requested = message.get("tool_calls") or []
        if not requested or offered is None:
            return str(message.get("content") or ""), calls
        messages.append({"role": "assistant", "content": message.get("content"), "tool_calls": requested})
        for requested_call in requested:
            call_id, name, arguments = _parse_call(requested_call)
            result = await run_tool(session, user_id, name, arguments)
            log.info("tool call", extra={"tool": name, "ok": "error" not in result})
            calls.append(
                ToolCallPublic(name=name, arguments=arguments if isinstance(arguments, dict) else {}, result=result)
            )
            messages.append({"role": "tool", "tool_call_id": call_id, "content": json.dumps(result)})
    raise AssertionError("unreachable: the last round offers no tools")


def _parse_call(call: Any) -> tuple[str, str, Any]:
    """(id, name, arguments) of an OpenAI tool call; malformed arguments reach run_tool as-is."""
    if not isinstance(call, dict) or not isinstance(call.get("function"), dict):
        raise llm.LLMError("the language model returned a malformed tool call")
    function = call["function"]
    raw = function.get("arguments") or "{}"
    try:
        arguments = json.loads(raw) if isinstance(raw, str) else raw
    except json.JSONDecodeError:
        arguments = {"_unparsable_arguments": raw}
    return str(call.get("id", "")), str(function.get("name", "")), arguments
