"""audit: writes one structured log line per order event (EventBridge target of the README's example).

The worked example of adding a service (README, "Adding a service"): it only logs, so its log
group is the audit trail. Needs no environment beyond what every function gets.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

logger = Logger()


def handler(event: Any, context: LambdaContext) -> dict[str, Any]:
    """Lambda entry point (``handlers.audit.handler``): log the event's source, detail-type and order id."""
    detail = event.get("detail") if isinstance(event, dict) else None
    record = {
        "source": event.get("source") if isinstance(event, dict) else None,
        "detailType": event.get("detail-type") if isinstance(event, dict) else None,
        "orderId": detail.get("id") if isinstance(detail, dict) else None,
    }
    logger.info("audited", extra=record)
    return record
