"""Limit policies: definitions (store, API) and the snapshot port the inference plane reads."""

from inferia.contracts.policies import (
    POLICY_CHANGES_CHANNEL,
    PolicySnapshots,
    PolicySource,
    RemotePolicySource,
)
from inferia.filtration.policy.controller import policy_controller
from inferia.filtration.policy.internal import internal_policies_controller
from inferia.filtration.policy.schema import PolicyRecord
from inferia.filtration.policy.store import PolicyStore, parse_limits
from inferia.filtration.policy.tables import LimitPolicy

__all__ = [
    "POLICY_CHANGES_CHANNEL",
    "LimitPolicy",
    "PolicyRecord",
    "PolicySnapshots",
    "PolicySource",
    "PolicyStore",
    "RemotePolicySource",
    "internal_policies_controller",
    "parse_limits",
    "policy_controller",
]
