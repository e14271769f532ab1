"""The payment state machine's definition (Amazon States Language), as a pure function.

This is the original design's definition with two changes that make it deployable per stack and
safe to run: the bus name and the fraud threshold are parameters (the original hard-codes
``"eda-demo"`` and ``500``), and the ``putEvents`` task retries with backoff and catches what is
left into a named failure, so a lost payment outcome is a failed execution that alarms, never a
silent success.
"""

from __future__ import annotations

from typing import Any

from handlers import contract

#: Errors the ``events:putEvents`` integration raises for a rejected entry or a failed call.
PUBLISH_RETRY_ERRORS = ["EventBridge.FailedEntry", "States.TaskFailed", "States.Timeout"]
PUBLISH_FAILED_ERROR = "PaymentOutcomeNotPublished"
EXECUTION_TIMEOUT_SECONDS = 60


def put_events_resource(partition: str) -> str:
    """The Step Functions ``events:putEvents`` integration in ``partition`` (``arn:aws-cn:states:::...`` in China)."""
    return f"arn:{partition}:states:::events:putEvents"


def notify_state(event_bus_name: str, partition: str) -> dict[str, Any]:
    """The task that puts the payment's outcome on the bus: retried, then caught as ``Outcome Not Published``."""
    return {
        "Type": "Task",
        "Resource": put_events_resource(partition),
        "Parameters": {
            "Entries": [
                {
                    "Detail": {"id.$": "$.detail.id"},
                    "DetailType.$": "$.payment.status",
                    "EventBusName": event_bus_name,
                    "Source": contract.PAYMENT_SERVICE,
                }
            ]
        },
        "Retry": [
            {
                "ErrorEquals": PUBLISH_RETRY_ERRORS,
                "IntervalSeconds": 1,
                "BackoffRate": 2.0,
                "MaxAttempts": 3,
            }
        ],
        "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Outcome Not Published"}],
        "End": True,
    }


def payment_definition(event_bus_name: str, fraud_threshold: float, partition: str) -> dict[str, Any]:
    """Render the payment workflow for one stack's bus, threshold and partition.

    ``amount > fraud_threshold`` fails the payment; the threshold itself succeeds (the
    executable original, not its prose, is the reference).
    """
    return {
        "Comment": "Payment Service",
        "StartAt": "isFraud",
        # A stuck execution ends (and alarms) instead of running for a year.
        "TimeoutSeconds": EXECUTION_TIMEOUT_SECONDS,
        "States": {
            "isFraud": {
                "Type": "Choice",
                "Choices": [
                    {
                        "Variable": "$.detail.amount",
                        "NumericGreaterThan": fraud_threshold,
                        "Next": "Payment Failed",
                    }
                ],
                "Default": "Payment Succeeded",
            },
            "Payment Failed": {
                "Type": "Pass",
                "Next": "Notify EventBus",
                "Result": {"status": contract.PAYMENT_FAILED},
                "ResultPath": "$.payment",
            },
            "Payment Succeeded": {
                "Type": "Pass",
                "Next": "Notify EventBus",
                "Result": {"status": contract.PAYMENT_SUCCEEDED},
                "ResultPath": "$.payment",
            },
            "Notify EventBus": notify_state(event_bus_name, partition),
            "Outcome Not Published": {
                "Type": "Fail",
                "Error": PUBLISH_FAILED_ERROR,
                "Cause": "The payment outcome could not be put on the event bus after retries.",
            },
        },
    }
