"""Request dependencies shared by the routes: the DB session and the caller's identity."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Path, Request, status
from sqlmodel.ext.asyncio.session import AsyncSession

from app.core.security import bearer_token
from app.db import get_session
from app.models import USER_ID_MAX

SessionDep = Annotated[AsyncSession, Depends(get_session)]


async def path_user(request: Request, user_id: Annotated[str, Path(min_length=1, max_length=USER_ID_MAX)]) -> str:
    """The `{user_id}` of the path, once the bearer token proves the caller is that user.

    Missing or invalid tokens raise AuthError (401, see app.main); a valid token
    for someone else is 403.
    """
    principal = await request.app.state.verifier.verify(bearer_token(request.headers.get("authorization")))
    if principal.user_id != user_id:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "the token's subject is not the user_id in the path")
    return user_id


UserIdDep = Annotated[str, Depends(path_user)]
