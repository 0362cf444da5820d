"""/api/{user_id}/tasks: one user's todo list."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, HTTPException, Path, Query, Response, status

from app import crud
from app.api.deps import SessionDep, UserIdDep
from app.models import Task, TaskCompletion, TaskCreate, TaskPublic, TaskStatus, TaskUpdate

router = APIRouter(prefix="/api/{user_id}/tasks", tags=["tasks"])

# Task ids are Postgres integers: anything outside that range cannot exist.
TaskId = Annotated[int, Path(ge=1, le=2_147_483_647)]


async def _owned_task(session: SessionDep, user_id: str, task_id: int) -> Task:
    task = await crud.get_task(session, user_id, task_id)
    if task is None:
        # Also the answer for another user's task: its existence is not revealed.
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"task {task_id} not found")
    return task


@router.get("", response_model=list[TaskPublic])
async def list_tasks(
    session: SessionDep, user_id: UserIdDep, task_status: Annotated[TaskStatus, Query(alias="status")] = "all"
) -> list[Task]:
    return await crud.list_tasks(session, user_id, task_status)


@router.post("", response_model=TaskPublic, status_code=status.HTTP_201_CREATED)
async def create_task(session: SessionDep, user_id: UserIdDep, body: TaskCreate) -> Task:
    task = await crud.create_task(session, user_id, body)
    await session.commit()
    return task


@router.get("/{task_id}", response_model=TaskPublic)
async def read_task(session: SessionDep, user_id: UserIdDep, task_id: TaskId) -> Task:
    return await _owned_task(session, user_id, task_id)


@router.put("/{task_id}", response_model=TaskPublic)
async def update_task(session: SessionDep, user_id: UserIdDep, task_id: TaskId, body: TaskUpdate) -> Task:
    task = await crud.update_task(session, await _owned_task(session, user_id, task_id), body)
    await session.commit()
    return task


@router.patch("/{task_id}/complete", response_model=TaskPublic)
async def complete_task(
    session: SessionDep,
    user_id: UserIdDep,
    task_id: TaskId,
    body: Annotated[TaskCompletion | None, Body()] = None,
) -> Task:
    completed = True if body is None else body.completed
    task = await crud.set_completed(session, await _owned_task(session, user_id, task_id), completed)
    await session.commit()
    return task


@router.delete("/{task_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_task(session: SessionDep, user_id: UserIdDep, task_id: TaskId) -> Response:
    await crud.delete_task(session, await _owned_task(session, user_id, task_id))
    await session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)
