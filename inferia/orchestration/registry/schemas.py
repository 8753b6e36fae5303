"""Request and response bodies of the model registry routes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec

from inferia.orchestration.adapters.protocol import Engine, Resources

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200, pattern=r"^[\w.\-]+$")]
Version = Annotated[str, msgspec.Meta(min_length=1, max_length=100, pattern=r"^[\w.\-+]+$")]
Uri = Annotated[
    str, msgspec.Meta(min_length=1, max_length=2000, pattern=r"^(hf|file|s3|ollama)://\S+$")
]
Args = Annotated[list[str], msgspec.Meta(max_length=200)]


class ModelRegister(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    name: Name
    version: Version
    artifact_uri: Uri
    engine: Engine
    engine_args: Args = msgspec.field(default_factory=list)
    # The server command of the "openai-compatible" engine, with placeholders
    # {model_path} {host} {port} {api_key} {served_name} {python}.
    command: Args = msgspec.field(default_factory=list)
    resources: Resources = msgspec.field(default_factory=Resources)


class RegisteredModelRecord(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    name: str
    version: str
    artifact_uri: str
    engine: str
    engine_args: list[str]
    command: list[str]
    resources: Resources
    created_at: datetime


class ModelList(msgspec.Struct, frozen=True):
    data: list[RegisteredModelRecord]
