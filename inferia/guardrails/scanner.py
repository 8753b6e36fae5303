"""The scanner plugin interface and its discovery through entry points.

A scanner plugin is an entry point in the ``inferia.guardrails`` group whose object is
a factory: ``factory(setup: ScannerSetup) -> Scanner | OffloadedScanner``. The built-in
scanners register exactly like third-party packages do (pyproject.toml), and the
engine finds them all with ``importlib.metadata``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any, Protocol, runtime_checkable

from inferia.core.errors import ConfigError
from inferia.guardrails.findings import Detection

ENTRY_POINT_GROUP = "inferia.guardrails"


@dataclass(frozen=True, slots=True)
class ScannerSetup:
    """What a factory gets: the policy entry's own options (``words``, ``patterns``...)
    and the operator's settings for this scanner (``[guardrails.detoxify]``)."""

    name: str
    options: Mapping[str, Any] = field(default_factory=dict)
    settings: Mapping[str, Any] = field(default_factory=dict)


@runtime_checkable
class Scanner(Protocol):
    """A fast, pure scanner run inline on the event loop (budget: microseconds).

    ``max_match_chars`` bounds the length of anything it reports: the streaming window
    holds back that many characters so a match split across chunks is still seen.
    ``hold_back(text)`` may answer fewer (how many trailing characters could still
    become part of a match); return ``max_match_chars`` when unsure.
    """

    name: str
    categories: frozenset[str]
    max_match_chars: int

    def scan(self, text: str) -> list[Detection]: ...

    def hold_back(self, text: str) -> int: ...


@runtime_checkable
class OffloadedScanner(Protocol):
    """A slow scanner (an ML model) run off the event loop by the plugin itself.

    It sees whole texts only (never stream chunks). ``scan_async`` raises
    ``ScannerUnavailable`` on timeout or overload; the policy's ``fail_mode`` decides.
    """

    name: str
    categories: frozenset[str]

    async def scan_async(self, text: str) -> list[Detection]: ...

    async def close(self) -> None: ...


class ScannerUnavailable(Exception):
    """An offloaded scanner could not answer in time (timeout, full queue, crash)."""


ScannerFactory = Callable[[ScannerSetup], Scanner | OffloadedScanner]


def discover_factories() -> dict[str, ScannerFactory]:
    """Every installed scanner factory by name (the entry point's name)."""
    found: dict[str, ScannerFactory] = {}
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        found[entry.name] = _Lazy(entry.name, entry.load)
    return found


class _Lazy:
    """Imports a plugin only when a policy names it, so a broken plugin that nobody
    uses cannot stop start-up, and one that is used fails with its own name."""

    def __init__(self, name: str, load: Callable[[], Any]) -> None:
        self._name = name
        self._load = load

    def __call__(self, setup: ScannerSetup) -> Scanner | OffloadedScanner:
        try:
            factory = self._load()
        except Exception as exc:
            raise ConfigError(
                f"guardrail scanner '{self._name}' failed to load: {type(exc).__name__}: {exc}"
            ) from exc
        scanner = factory(setup)
        if not isinstance(scanner, Scanner | OffloadedScanner):
            raise ConfigError(
                f"guardrail scanner '{self._name}' does not implement the scanner interface"
            )
        return scanner


class BaseScanner:
    """Convenience base for inline scanners: the strict hold-back."""

    name: str = "scanner"
    categories: frozenset[str] = frozenset()
    max_match_chars: int = 0

    def scan(self, text: str) -> list[Detection]:
        raise NotImplementedError

    def hold_back(self, text: str) -> int:
        return self.max_match_chars
