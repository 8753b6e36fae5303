"""Upstream endpoints: their fixed configuration and their live health."""

from __future__ import annotations

import time
from dataclasses import dataclass, field


@dataclass(slots=True)
class EndpointHealth:
    """Passive health of one endpoint: in-flight count and a circuit breaker.

    Kept across routing-table refreshes (keyed by endpoint id), so a reload does not
    forget that an endpoint is failing or busy.
    """

    outstanding: int = 0
    consecutive_failures: int = 0
    open_until: float = 0.0
    # While half-open, one trial request is in flight and the others keep out.
    trial_in_flight: bool = False

    def available(self, now: float) -> bool:
        if self.open_until == 0.0:
            return True
        return now >= self.open_until and not self.trial_in_flight

    def acquire(self, now: float) -> None:
        self.outstanding += 1
        if self.open_until and now >= self.open_until:
            self.trial_in_flight = True

    def release(self) -> None:
        self.outstanding -= 1

    def succeeded(self) -> None:
        self.consecutive_failures = 0
        self.open_until = 0.0
        self.trial_in_flight = False

    def failed(self, threshold: int, cooldown_s: float) -> None:
        self.consecutive_failures += 1
        self.trial_in_flight = False
        if self.consecutive_failures >= threshold:
            self.open_until = time.monotonic() + cooldown_s


@dataclass(slots=True, eq=False)
class Endpoint:
    id: str
    deployment: str
    base_url: str
    upstream_model: str
    weight: int
    connect_timeout_s: float
    request_timeout_s: float
    # Precomputed request headers (auth + extra), so a request builds none.
    headers: dict[str, str]
    health: EndpointHealth = field(default_factory=EndpointHealth)

    def url(self, path: str) -> str:
        return self.base_url + path
