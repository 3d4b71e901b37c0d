"""Responses shaped by Parlour rather than by FastAPI's response validation."""

from __future__ import annotations

from typing import Any

import pydantic_core
from fastapi import Response
from pydantic import BaseModel


def json_response(body: BaseModel | dict[str, Any], *, status_code: int = 200) -> Response:
    """``body`` as JSON, without FastAPI validating it again against the route's
    ``response_model`` (which still documents it): for pages of many items built from
    database rows, that second validation cost as much as building the page. A dict is
    serialised as pydantic would serialise the model it is shaped like."""
    content = (
        body.model_dump_json().encode()
        if isinstance(body, BaseModel)
        else pydantic_core.to_json(body)
    )
    return Response(content, status_code=status_code, media_type="application/json")
