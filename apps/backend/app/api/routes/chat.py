"""/api/{user_id}/chat: the AI assistant."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.responses import JSONResponse

from app.api.deps import UserIdDep
from app.assistant.chat import ConversationNotFound, chat_turn
from app.assistant.llm import LLMError, LLMTimeout
from app.models import ChatRequest, ChatResponse

router = APIRouter(prefix="/api/{user_id}/chat", tags=["chat"])

NOT_CONFIGURED = "the AI assistant is not configured on this server (OPENAI_API_KEY is not set)"


@router.post("", response_model=ChatResponse)
async def chat(request: Request, user_id: UserIdDep, body: ChatRequest) -> ChatResponse | JSONResponse:
    state = request.app.state
    if not state.settings.assistant_configured:
        # `code` lets the frontend show its "assistant not configured" state without parsing prose.
        return JSONResponse({"detail": NOT_CONFIGURED, "code": "assistant_not_configured"}, status_code=503)
    try:
        return await chat_turn(state.sessionmaker, state.http, state.settings, user_id, body)
    except ConversationNotFound as error:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(error)) from None
    except (LLMTimeout, TimeoutError):
        raise HTTPException(
            status.HTTP_504_GATEWAY_TIMEOUT,
            f"the assistant did not answer within {state.settings.chat_timeout_seconds:g} seconds; "
            "your message was saved, try again",
        ) from None
    except LLMError as error:
        raise HTTPException(status.HTTP_502_BAD_GATEWAY, f"{error}; your message was saved, try again") from None
