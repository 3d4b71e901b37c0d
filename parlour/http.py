"""Responses shaped by Parlour rather than by FastAPI's response validation."""

from __future__ import annotations

from fastapi import Response
from pydantic import BaseModel


def json_response(model: BaseModel, *, status_code: int = 200) -> Response:
    """``model`` as JSON, without FastAPI validating it again against the route's
    ``response_model`` (which still documents it): for pages of many items built from
    database rows, that second validation cost as much as building the page."""
    return Response(model.model_dump_json(), status_code=status_code, media_type="application/json")
