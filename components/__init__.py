"""Pulumi components of eda-demo, one module per box of the architecture diagram.

``EventBus`` is the choreography's backbone; ``OrderService``, ``PaymentService`` and
``NotificationService`` each own their targets and subscribe them to the bus; ``Operations``
watches all of them. Pure builders for IAM documents, the state-machine definition and names
live in ``policies``, ``payment_workflow`` and ``naming`` so they are testable without Pulumi.
"""

from components.event_bus import EventBus, EventBusArgs
from components.event_contracts import EventContracts, EventContractsArgs
from components.notification_service import NotificationService, NotificationServiceArgs
from components.operations import Operations, OperationsArgs
from components.order_service import OrderService, OrderServiceArgs
from components.payment_service import PaymentService, PaymentServiceArgs

__all__ = [
    "EventBus",
    "EventBusArgs",
    "EventContracts",
    "EventContractsArgs",
    "NotificationService",
    "NotificationServiceArgs",
    "Operations",
    "OperationsArgs",
    "OrderService",
    "OrderServiceArgs",
    "PaymentService",
    "PaymentServiceArgs",
]
