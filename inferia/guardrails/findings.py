"""What scanners report and what the engine decides: detections, findings, outcomes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, NamedTuple

from inferia.config.guardrails import GuardrailAction

# The action names inferia.toml and policies use: declared once, in config.
Action = GuardrailAction
Direction = Literal["input", "output"]
ACTIONS: tuple[Action, ...] = ("block", "redact", "flag")
# When several findings overlap, the stronger action wins.
ACTION_RANK: dict[str, int] = {"flag": 0, "redact": 1, "block": 2}


class Detection(NamedTuple):
    """One hit of a scanner: a category and a span of the text it was given."""

    category: str
    start: int
    end: int
    score: float = 1.0


@dataclass(frozen=True, slots=True)
class Finding:
    """A detection that passed the policy's threshold, with the action the policy chose.

    Spans index the original (not normalised) text. The matched text itself is never
    kept: findings go to logs and metrics.
    """

    scanner: str
    category: str
    action: Action
    start: int
    end: int
    score: float

    def record(self, direction: Direction, where: str) -> dict[str, object]:
        """The loggable form: never the matched text."""
        return {
            "scanner": self.scanner,
            "category": self.category,
            "action": self.action,
            "direction": direction,
            "where": where,
            "score": round(self.score, 3),
        }
