"""Database tables (SQLModel, table=True) and the API's request/response shapes.

Table names (tasks, conversations, messages) must not clash with Better Auth's
tables (user, session, account, verification, jwks) that the frontend keeps in
the same database.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import StringConstraints
from sqlalchemy import JSON, Column, DateTime, ForeignKey, Integer, Text
from sqlmodel import Field, SQLModel

TITLE_MAX = 200
DESCRIPTION_MAX = 2000
MESSAGE_MAX = 4000
USER_ID_MAX = 255

# Leading/trailing whitespace is dropped, so a title of only spaces is empty and rejected.
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=TITLE_MAX)]
Description = Annotated[str, StringConstraints(strip_whitespace=True, max_length=DESCRIPTION_MAX)]


def utcnow() -> datetime:
    return datetime.now(UTC)


def _timestamp() -> Any:
    return Field(default_factory=utcnow, sa_type=DateTime(timezone=True), nullable=False)


# ---- tables -----------------------------------------------------------------


class Task(SQLModel, table=True):
    __tablename__ = "tasks"

    id: int | None = Field(default=None, primary_key=True)
    user_id: str = Field(max_length=USER_ID_MAX, index=True)
    title: str = Field(max_length=TITLE_MAX)
    description: str | None = Field(default=None, max_length=DESCRIPTION_MAX)
    completed: bool = Field(default=False)
    created_at: datetime = _timestamp()
    updated_at: datetime = _timestamp()


class Conversation(SQLModel, table=True):
    __tablename__ = "conversations"

    id: int | None = Field(default=None, primary_key=True)
    user_id: str = Field(max_length=USER_ID_MAX, index=True)
    created_at: datetime = _timestamp()
    updated_at: datetime = _timestamp()


class Message(SQLModel, table=True):
    __tablename__ = "messages"

    id: int | None = Field(default=None, primary_key=True)
    conversation_id: int = Field(
        sa_column=Column(Integer, ForeignKey("conversations.id", ondelete="CASCADE"), index=True, nullable=False)
    )
    user_id: str = Field(max_length=USER_ID_MAX, index=True)
    role: str = Field(max_length=16)  # "user" or "assistant"
    content: str = Field(sa_column=Column(Text, nullable=False))
    # The tool calls the assistant made to produce this reply: [{name, arguments, result}].
    tool_calls: list[dict[str, Any]] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    created_at: datetime = _timestamp()


# ---- API shapes -------------------------------------------------------------


class TaskCreate(SQLModel):
    title: Title
    description: Description | None = None


class TaskUpdate(SQLModel):
    """PUT body: only the fields present are changed."""

    title: Title | None = None
    description: Description | None = None
    completed: bool | None = None


class TaskCompletion(SQLModel):
    """PATCH .../complete body (optional): mark done (default) or not done."""

    completed: bool = True


class TaskPublic(SQLModel):
    id: int
    user_id: str
    title: str
    description: str | None
    completed: bool
    created_at: datetime
    updated_at: datetime


class ChatRequest(SQLModel):
    conversation_id: int | None = None
    message: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MESSAGE_MAX)]


class ToolCallPublic(SQLModel):
    name: str
    arguments: dict[str, Any]
    result: Any


class ChatResponse(SQLModel):
    conversation_id: int
    response: str
    tool_calls: list[ToolCallPublic]


TaskStatus = Literal["all", "pending", "completed"]
