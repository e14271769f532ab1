"""API Gateway's own answers: JSON for an unknown path (403), a refused body (400), an oversized body (413).

And every access-log line the stage wrote during the run parses as JSON.
"""

from __future__ import annotations

import json
import time

from acceptance.inventory import Inventory, arn_name
from acceptance.plugin import Check
from acceptance.support import eventually, http, log_messages
from acceptance.target import Target

#: API Gateway's payload limit: a body one byte over it is refused with 413.
PAYLOAD_LIMIT = 10 * 1024 * 1024


def _json_error(status: int, answer_status: int, raw: bytes, parsed: object, is_json: bool) -> None:
    assert answer_status == status, f"answered {answer_status}: {raw[:300]!r}"
    assert is_json and isinstance(parsed, dict) and "error" in parsed, f"not a JSON error: {raw[:300]!r}"


def check_an_unknown_path_answers_403_json(target: Target, check: Check) -> None:
    """An undeclared path answers 403 with a JSON error body."""
    url = f"{target.api_url}/verify-no-such-path"
    check.rerun(f"curl -s -i {url}")
    answer = http("GET", url)
    _json_error(403, answer.status, answer.raw, answer.json, answer.is_json)


def check_a_refused_body_answers_400_json(target: Target, check: Check) -> None:
    """A body the request validator refuses answers 400 with a JSON error body and the request id."""
    check.rerun(f'curl -s -i -X POST {target.api_url}/order -d \'{{"id":"x"}}\'')
    answer = http("POST", f"{target.api_url}/order", b'{"id":"x"}')
    _json_error(400, answer.status, answer.raw, answer.json, answer.is_json)
    assert answer.json.get("requestId"), f"no requestId: {answer.raw[:300]!r}"


def check_an_oversized_body_answers_413_json(target: Target, check: Check) -> None:
    """A body over 10 MB answers 413 with a JSON error body."""
    check.rerun(
        f"head -c {PAYLOAD_LIMIT + 1} /dev/zero | tr '\\0' x "
        f"| curl -s -i -X POST {target.api_url}/order --data-binary @-"
    )
    answer = http("POST", f"{target.api_url}/order", b"x" * (PAYLOAD_LIMIT + 1), timeout=120)
    _json_error(413, answer.status, answer.raw, answer.json, answer.is_json)


def check_the_rest_api_and_its_stage_are_deployed(target: Target, inventory: Inventory, check: Check) -> None:
    """get-rest-api and get-stages: the stage writes JSON access logs and traces with X-Ray."""
    check.rerun(f"aws apigateway get-stages --rest-api-id {inventory.rest_api_id}")
    target.client("apigateway").get_rest_api(restApiId=inventory.rest_api_id)
    assert inventory.stages, "the API has no stage"
    for stage in inventory.stages:
        settings = stage.get("accessLogSettings") or {}
        assert settings.get("destinationArn"), f"stage {stage['stageName']} writes no access log"
        json.loads(settings["format"])  # a JSON template: each line is one JSON object
        assert stage.get("tracingEnabled") is True, f"stage {stage['stageName']} does not trace"


def check_every_access_log_line_is_json(target: Target, inventory: Inventory, check: Check) -> None:
    """Every access-log line written during the run parses as JSON (the refused body's line included)."""
    groups = sorted(
        arn_name(s["accessLogSettings"]["destinationArn"]) for s in inventory.stages if s.get("accessLogSettings")
    )
    check.rerun(f"aws logs filter-log-events --log-group-name {groups[0]} --start-time {target.started_ms}")
    deadline = time.monotonic() + target.deadline_seconds
    # Access logs arrive within seconds on AWS: wait for the refused body's line (status 400).
    lines = eventually(
        lambda: [m for g in groups for m in log_messages(target, g)],
        lambda found: any('"400"' in line for line in found),
        deadline,
    )
    assert any('"400"' in line for line in lines), f"no access-log line of the 400 in {groups}: {len(lines)} lines"
    broken = []
    for line in lines:
        try:
            json.loads(line)
        except ValueError:
            broken.append(line)
    assert not broken, f"{len(broken)} of {len(lines)} lines are not JSON, e.g. {broken[0][:300]}"
