"""Usage records and inference logs: the event schema, the batch consumer, the read API."""

from inferia.contracts.usage import USAGE_GROUP, USAGE_STREAM, UsageEvent, body_context
from inferia.filtration.usage.consumer import UsageConsumer
from inferia.filtration.usage.controller import usage_controller
from inferia.filtration.usage.tables import InferenceLog, UsageRecord

__all__ = [
    "USAGE_GROUP",
    "USAGE_STREAM",
    "InferenceLog",
    "UsageConsumer",
    "UsageEvent",
    "UsageRecord",
    "body_context",
    "usage_controller",
]
