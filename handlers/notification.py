"""notification: tells subscribers about every order and payment event (EventBridge target).

One SNS publish per event with a readable subject and message, plus ``source`` and
``detail-type`` message attributes for subscription filters. An unexpected event shape still
produces a generic notification; an SNS failure raises so Lambda's async retry applies.

Environment (required at import): the notification topic ARN.
"""

from __future__ import annotations

import os
from typing import Any

import boto3
from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import BotoCoreError, ClientError

from handlers import contract, messages

TOPIC_ARN = os.environ[contract.ENV_NOTIFICATION_TOPIC]

logger = Logger()
sns = boto3.client("sns")


class NotificationError(Exception):
    """SNS did not take the notification; a retry may succeed."""


@logger.inject_lambda_context
def handler(event: Any, context: LambdaContext) -> dict[str, Any]:
    """Lambda entry point (``handlers.notification.handler``)."""
    # Anything but an object is still reported, with its shape in the generic message.
    bridge_event = EventBridgeEvent(event if isinstance(event, dict) else {"detail": event})
    source, detail_type = bridge_event.get("source"), bridge_event.get("detail-type")
    notification = messages.notification_for(source, detail_type, bridge_event.get("detail"))
    try:
        response = sns.publish(
            TopicArn=TOPIC_ARN,
            Subject=notification.subject,
            Message=notification.message,
            MessageAttributes=messages.message_attributes(source, detail_type),
        )
    except (ClientError, BotoCoreError) as e:
        raise NotificationError(f"could not publish notification {notification.subject!r}: {e}") from e
    logger.info("Notification sent", extra={"subject": notification.subject, "message_id": response["MessageId"]})
    return {"messageId": response["MessageId"], "subject": notification.subject}
