"""The task tools as an MCP server (official `mcp` SDK), over streamable HTTP at /mcp.

Same auth as the REST API: every HTTP request to /mcp must carry a valid
Better Auth bearer token, and the tools act for the token's subject. The
server is stateless (a fresh transport per request, JSON responses), like the
rest of the API, so any replica can answer any request.
"""

from __future__ import annotations

import json

from mcp.server.context import ServerRequestContext
from mcp.server.lowlevel import Server
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.types import (
    CallToolRequestParams,
    CallToolResult,
    ListToolsResult,
    PaginatedRequestParams,
    TextContent,
    Tool,
)
from starlette.requests import Request
from starlette.types import Receive, Scope, Send

from app.assistant.tools import TOOLS, run_tool
from app.core.security import bearer_token

# Where the authenticated user's id travels from the HTTP layer to the tool handler.
USER_SCOPE_KEY = "taskflow.user_id"


def create_session_manager() -> StreamableHTTPSessionManager:
    server: Server = Server("taskflow", version="0.1.0", on_list_tools=_list_tools, on_call_tool=_call_tool)
    # No DNS-rebinding Host/Origin checks: they protect cookie- or network-trusted
    # servers, while every request here must present a bearer token.
    return StreamableHTTPSessionManager(app=server, json_response=True, stateless=True)


async def _list_tools(ctx: ServerRequestContext, params: PaginatedRequestParams | None) -> ListToolsResult:
    return ListToolsResult(
        tools=[Tool(name=t.name, description=t.description, input_schema=t.input_schema()) for t in TOOLS.values()]
    )


async def _call_tool(ctx: ServerRequestContext, params: CallToolRequestParams) -> CallToolResult:
    request = ctx.request
    assert isinstance(request, Request), "the streamable HTTP transport attaches the HTTP request"
    user_id = request.scope[USER_SCOPE_KEY]
    async with request.app.state.sessionmaker() as session:
        result = await run_tool(session, user_id, params.name, params.arguments or {})
        await session.commit()
    return CallToolResult(
        content=[TextContent(type="text", text=json.dumps(result))],
        structured_content=result,
        is_error="error" in result,
    )


class McpEndpoint:
    """ASGI endpoint for /mcp: authenticate, then hand the request to the MCP session manager.

    AuthError / AuthUnavailable propagate to the app's handlers (401 / 503), as for REST routes.
    """

    def __init__(self, manager: StreamableHTTPSessionManager) -> None:
        self.manager = manager

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        principal = await request.app.state.verifier.verify(bearer_token(request.headers.get("authorization")))
        scope[USER_SCOPE_KEY] = principal.user_id
        await self.manager.handle_request(scope, receive, send)
