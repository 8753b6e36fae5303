"""The pool's adapter config: a msgspec Struct, so a typo is refused with its path."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Literal

import msgspec

# vLLM's OpenAI-compatible server; pin a tag in production pools (``image``).
DEFAULT_IMAGES = {
    "vllm": "vllm/vllm-openai:latest",
    "llama.cpp": "ghcr.io/ggml-org/llama.cpp:server",
    "sglang": "lmsysorg/sglang:latest",
}
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")


class PoolConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    namespace: str = "default"
    # One image for every engine, else DEFAULT_IMAGES by engine.
    image: str | None = None
    images: dict[str, str] = msgspec.field(default_factory=dict)
    service_type: Literal["ClusterIP", "LoadBalancer"] = "ClusterIP"
    node_selector: dict[str, str] = msgspec.field(default_factory=dict)
    gpu_resource: str = "nvidia.com/gpu"
    port: int = 8000
    max_replicas: int = 4
    env: dict[str, str] = msgspec.field(default_factory=dict)
    image_pull_secrets: list[str] = msgspec.field(default_factory=list)
    service_account: str | None = None
    # A kubeconfig context (of the pool's kubeconfig credential or the default one).
    context: str | None = None

    def __post_init__(self) -> None:
        if not _DNS_LABEL.match(self.namespace):
            raise ValueError(f"namespace '{self.namespace}' is not a valid DNS label")
        if not 1 <= self.port <= 65535:
            raise ValueError("port must be between 1 and 65535")
        if self.max_replicas < 1:
            raise ValueError("max_replicas must be an integer >= 1")
        if not self.gpu_resource or "/" not in self.gpu_resource:
            raise ValueError("gpu_resource must be an extended resource name like nvidia.com/gpu")
        if self.image is not None and not self.image.strip():
            raise ValueError("image must not be empty")

    def image_for(self, engine: str) -> str | None:
        return self.images.get(engine) or self.image or DEFAULT_IMAGES.get(engine)


def parse(config: Mapping[str, Any]) -> PoolConfig:
    """``ValueError`` naming the bad key: the API answers it as a 422."""
    try:
        return msgspec.convert(dict(config), PoolConfig)
    except msgspec.ValidationError as exc:
        raise ValueError(str(exc)) from None


def normalised(config: PoolConfig) -> dict[str, Any]:
    return msgspec.to_builtins(config)  # type: ignore[no-any-return]
