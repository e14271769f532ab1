"""Pure API Gateway proxy responses: every answer is JSON, errors included."""

from __future__ import annotations

import json
from typing import Any


def json_response(status_code: int, body: dict[str, Any]) -> dict[str, Any]:
    """Return an API Gateway proxy integration response with a JSON body."""
    return {
        "statusCode": status_code,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps(body),
    }


def error_response(status_code: int, message: str) -> dict[str, Any]:
    """Return ``{"error": message}`` with ``status_code``."""
    return json_response(status_code, {"error": message})
