"""The assistant's task tools, defined once for both the chat loop and the MCP server.

Each tool validates its arguments with a pydantic model (whose JSON schema is
what the LLM and MCP clients see) and acts for one user through app.crud.
Bad arguments or unknown task ids come back as {"error": ...} results the
model can read and correct, never as exceptions.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlmodel.ext.asyncio.session import AsyncSession

from app import crud
from app.models import Description, Task, TaskCreate, TaskPublic, TaskStatus, TaskUpdate, Title

TaskIdArg = Annotated[int, Field(ge=1, le=2_147_483_647, description="The task's id, from list_tasks or add_task.")]


class _Args(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AddTaskArgs(_Args):
    title: Title = Field(description="Short title of the task.")
    description: Description | None = Field(default=None, description="Optional longer description.")


class ListTasksArgs(_Args):
    status: TaskStatus = Field(default="all", description="Which tasks: all, pending or completed.")


class TaskRefArgs(_Args):
    task_id: TaskIdArg


class UpdateTaskArgs(_Args):
    task_id: TaskIdArg
    title: Title | None = Field(default=None, description="New title, if it changes.")
    description: Description | None = Field(default=None, description="New description, if it changes.")


Result = dict[str, Any]


@dataclass(frozen=True)
class Tool:
    name: str
    description: str
    args: type[_Args]
    run: Callable[[AsyncSession, str, Any], Awaitable[Result]]

    def input_schema(self) -> dict[str, Any]:
        return self.args.model_json_schema()


def _task(task: Task) -> Result:
    return TaskPublic.model_validate(task).model_dump(mode="json")


def _not_found(task_id: int) -> Result:
    return {"error": f"task {task_id} not found"}


async def _add(session: AsyncSession, user_id: str, args: AddTaskArgs) -> Result:
    task = await crud.create_task(session, user_id, TaskCreate(title=args.title, description=args.description))
    return {"task": _task(task)}


async def _list(session: AsyncSession, user_id: str, args: ListTasksArgs) -> Result:
    return {"tasks": [_task(task) for task in await crud.list_tasks(session, user_id, args.status)]}


async def _complete(session: AsyncSession, user_id: str, args: TaskRefArgs) -> Result:
    task = await crud.get_task(session, user_id, args.task_id)
    if task is None:
        return _not_found(args.task_id)
    return {"task": _task(await crud.set_completed(session, task, True))}


async def _delete(session: AsyncSession, user_id: str, args: TaskRefArgs) -> Result:
    task = await crud.get_task(session, user_id, args.task_id)
    if task is None:
        return _not_found(args.task_id)
    deleted = _task(task)
    await crud.delete_task(session, task)
    return {"deleted": deleted}


async def _update(session: AsyncSession, user_id: str, args: UpdateTaskArgs) -> Result:
    task = await crud.get_task(session, user_id, args.task_id)
    if task is None:
        return _not_found(args.task_id)
    changes = TaskUpdate.model_validate(args.model_dump(exclude={"task_id"}, exclude_none=True))
    return {"task": _task(await crud.update_task(session, task, changes))}


TOOLS: dict[str, Tool] = {
    tool.name: tool
    for tool in (
        Tool("add_task", "Create a new task for the user.", AddTaskArgs, _add),
        Tool("list_tasks", "List the user's tasks, optionally only pending or completed ones.", ListTasksArgs, _list),
        Tool("complete_task", "Mark one of the user's tasks as completed.", TaskRefArgs, _complete),
        Tool("delete_task", "Delete one of the user's tasks.", TaskRefArgs, _delete),
        Tool("update_task", "Change the title and/or description of one of the user's tasks.", UpdateTaskArgs, _update),
    )
}


async def run_tool(session: AsyncSession, user_id: str, name: str, arguments: Any) -> Result:
    """Run one tool for `user_id`; changes are flushed, the caller commits."""
    tool = TOOLS.get(name)
    if tool is None:
        return {"error": f"unknown tool {name!r}; available: {', '.join(TOOLS)}"}
    try:
        args = tool.args.model_validate(arguments if arguments is not None else {})
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'arguments'}: {e['msg']}" for e in error.errors())
        return {"error": f"invalid arguments for {name}: {problems}"}
    return await tool.run(session, user_id, args)
