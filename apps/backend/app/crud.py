"""Task operations, always scoped to one user.

The REST routes, the assistant's tools and the MCP server all go through
these functions, so per-user isolation is enforced in exactly one place:
every query filters on user_id, and another user's task looks like a missing one.

Changes are flushed, not committed: the caller owns the transaction. A REST
request commits one change; an assistant turn commits its tool calls together
with the reply, so a failed turn leaves nothing half-done.
"""

from __future__ import annotations

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.models import Task, TaskCreate, TaskStatus, TaskUpdate, utcnow


async def create_task(session: AsyncSession, user_id: str, data: TaskCreate) -> Task:
    task = Task(user_id=user_id, title=data.title, description=data.description or None)
    session.add(task)
    await session.flush()
    await session.refresh(task)
    return task


async def list_tasks(session: AsyncSession, user_id: str, status: TaskStatus = "all") -> list[Task]:
    query = select(Task).where(Task.user_id == user_id)
    if status != "all":
        query = query.where(Task.completed == (status == "completed"))
    result = await session.exec(query.order_by(col(Task.id)))
    return list(result.all())


async def get_task(session: AsyncSession, user_id: str, task_id: int) -> Task | None:
    result = await session.exec(select(Task).where(Task.id == task_id, Task.user_id == user_id))
    return result.first()


async def update_task(session: AsyncSession, task: Task, changes: TaskUpdate) -> Task:
    fields = changes.model_dump(exclude_unset=True)
    if "title" in fields and fields["title"] is None:
        # A JSON null title means "no change"; a task always keeps a title.
        del fields["title"]
    if "description" in fields and not fields["description"]:
        fields["description"] = None
    if "completed" in fields and fields["completed"] is None:
        del fields["completed"]
    for name, value in fields.items():
        setattr(task, name, value)
    return await _save(session, task)


async def set_completed(session: AsyncSession, task: Task, completed: bool) -> Task:
    task.completed = completed
    return await _save(session, task)


async def delete_task(session: AsyncSession, task: Task) -> None:
    await session.delete(task)
    await session.flush()


async def _save(session: AsyncSession, task: Task) -> Task:
    task.updated_at = utcnow()
    session.add(task)
    await session.flush()
    await session.refresh(task)
    return task
