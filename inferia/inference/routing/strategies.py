"""Routing strategies: pick one endpoint of a deployment for a request.

Each strategy is a small object built per deployment snapshot. ``request_key`` derives
once per request what the strategy routes by (None for strategies that need nothing of
the request); ``pick`` receives it with the candidates still allowed for this attempt
(healthy, not yet tried).
"""

from __future__ import annotations

import bisect
import hashlib
import math
from collections.abc import Sequence
from typing import Protocol

from inferia.config import RoutingStrategy
from inferia.inference.pipeline import RequestContext
from inferia.inference.routing.endpoint import Endpoint


class Strategy(Protocol):
    def request_key(self, ctx: RequestContext) -> str | None:
        """What of the request this strategy routes by; None when it needs nothing."""
        ...

    def pick(self, candidates: Sequence[Endpoint], key: str | None) -> Endpoint: ...


class _KeyFree:
    """A strategy that needs nothing of the request."""

    def request_key(self, ctx: RequestContext) -> str | None:
        return None


class WeightedRoundRobin(_KeyFree):
    """Smooth weighted round-robin (nginx's): shares follow weights, evenly interleaved."""

    def __init__(self, endpoints: Sequence[Endpoint]) -> None:
        self._current = {endpoint.id: 0 for endpoint in endpoints}

    def pick(self, candidates: Sequence[Endpoint], key: str | None) -> Endpoint:
        total = 0
        best: Endpoint | None = None
        best_value = 0
        for endpoint in candidates:
            value = self._current.get(endpoint.id, 0) + endpoint.weight
            self._current[endpoint.id] = value
            total += endpoint.weight
            if best is None or value > best_value:
                best, best_value = endpoint, value
        assert best is not None
        self._current[best.id] -= total
        return best


class LeastOutstanding(_KeyFree):
    """Fewest in-flight requests; ties go round-robin so idle endpoints share."""

    def __init__(self) -> None:
        self._turn = 0

    def pick(self, candidates: Sequence[Endpoint], key: str | None) -> Endpoint:
        self._turn += 1
        count = len(candidates)
        best = candidates[self._turn % count]
        for offset in range(count):
            endpoint = candidates[(self._turn + offset) % count]
            if endpoint.health.outstanding < best.health.outstanding:
                best = endpoint
        return best


def _point(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big")


class PrefixAffinity:
    """Consistent hashing of the prompt prefix with bounded load.

    The same prefix lands on the same endpoint (so the server's prefix cache is reused)
    unless that endpoint already carries more than ``load_factor`` times the mean
    in-flight load; then the next endpoint clockwise on the ring takes it (Mirrokni,
    Thorup and Zadimoghaddam's consistent hashing with bounded loads).
    """

    VIRTUAL_NODES = 64

    def __init__(
        self, endpoints: Sequence[Endpoint], load_factor: float, prefix_chars: int = 512
    ) -> None:
        self._load_factor = load_factor
        self._prefix_chars = prefix_chars
        ring = sorted(
            (_point(f"{endpoint.id}#{replica}"), index)
            for index, endpoint in enumerate(endpoints)
            for replica in range(self.VIRTUAL_NODES * endpoint.weight)
        )
        self._points = [point for point, _ in ring]
        self._owners = [index for _, index in ring]
        self._endpoints = list(endpoints)
        self._fallback = LeastOutstanding()

    def request_key(self, ctx: RequestContext) -> str | None:
        """The prompt's leading ``prefix_chars`` characters."""
        chars = self._prefix_chars
        body = ctx.body
        if ctx.api == "chat.completions":
            parts: list[str] = []
            size = 0
            for message in body.get("messages") or ():
                content = message.get("content") if isinstance(message, dict) else None
                if isinstance(content, str):
                    parts.append(content)
                    size += len(content)
                if size >= chars:
                    break
            text = "\n".join(parts)
        else:
            prompt = body.get("prompt", body.get("input"))
            text = prompt if isinstance(prompt, str) else str(prompt)[:chars]
        return text[:chars] or None

    def pick(self, candidates: Sequence[Endpoint], key: str | None) -> Endpoint:
        if key is None:
            return self._fallback.pick(candidates, None)
        allowed = {id(endpoint) for endpoint in candidates}
        total = sum(endpoint.health.outstanding for endpoint in candidates)
        capacity = math.ceil(self._load_factor * (total + 1) / len(candidates))
        start = bisect.bisect(self._points, _point(key)) % len(self._points)
        first: Endpoint | None = None
        seen: set[int] = set()
        for step in range(len(self._points)):
            endpoint = self._endpoints[self._owners[(start + step) % len(self._points)]]
            if id(endpoint) not in allowed or id(endpoint) in seen:
                continue
            seen.add(id(endpoint))
            first = first or endpoint
            if endpoint.health.outstanding < capacity:
                return endpoint
            if len(seen) == len(allowed):
                break
        assert first is not None
        return first


def build_strategy(
    name: RoutingStrategy, endpoints: Sequence[Endpoint], load_factor: float, prefix_chars: int
) -> Strategy:
    if name == "least_outstanding":
        return LeastOutstanding()
    if name == "prefix_affinity":
        return PrefixAffinity(endpoints, load_factor, prefix_chars)
    return WeightedRoundRobin(endpoints)
