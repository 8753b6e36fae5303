"""The limit evaluator: a pure library the inference plane runs against the state backend."""

from inferia.limits.evaluator import (
    Charge,
    CompiledPolicies,
    Decision,
    LimitCheck,
    LimitEvaluator,
    LimitState,
    Plan,
    as_plan,
    price_for,
)
from inferia.limits.model import (
    ALL_MODELS,
    BUDGET_FIELDS,
    FIELD_BY_NAME,
    LIMIT_FIELDS,
    MAX_LIMIT,
    SCOPES,
    LimitValues,
    ModelPrice,
    OrgPolicies,
    PolicyRule,
    Scope,
)
from inferia.limits.script import ADMIT_LIMITS

__all__ = [
    "ADMIT_LIMITS",
    "ALL_MODELS",
    "BUDGET_FIELDS",
    "FIELD_BY_NAME",
    "LIMIT_FIELDS",
    "MAX_LIMIT",
    "SCOPES",
    "Charge",
    "CompiledPolicies",
    "Decision",
    "LimitCheck",
    "LimitEvaluator",
    "LimitState",
    "LimitValues",
    "ModelPrice",
    "OrgPolicies",
    "Plan",
    "PolicyRule",
    "Scope",
    "as_plan",
    "price_for",
]
