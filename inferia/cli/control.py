"""``inferia pools|models|deployments|nodes ...``: the control plane's REST API from a
shell, for people who script deployments.

It talks to a running server (``--url`` or ``INFERIA_URL``, default
``http://127.0.0.1:8000``) with a user access token (``--token`` or ``INFERIA_TOKEN``), or
logs in first with ``INFERIA_EMAIL`` and ``INFERIA_PASSWORD``. Replies are printed as
JSON (logs as text); an error reply exits with status 2 and its message. The standard
library's HTTP client keeps the CLI free of another dependency.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from typing import Any

from inferia.core.errors import InferiaError

DEFAULT_URL = "http://127.0.0.1:8000"
TIMEOUT_S = 30.0


class ControlApi:
    def __init__(self, url: str, token: str) -> None:
        self._url = url.rstrip("/")
        self._token = token

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> ControlApi:
        url = args.url or os.environ.get("INFERIA_URL") or DEFAULT_URL
        token = args.token or os.environ.get("INFERIA_TOKEN", "")
        if not token:
            email, password = os.environ.get("INFERIA_EMAIL"), os.environ.get("INFERIA_PASSWORD")
            if not (email and password):
                raise InferiaError(
                    "no credentials: pass --token (or INFERIA_TOKEN), or set "
                    "INFERIA_EMAIL and INFERIA_PASSWORD"
                )
            login = cls(url, "").call("POST", "/auth/login", {"email": email, "password": password})
            token = login["access_token"]
        return cls(url, token)

    def call(self, method: str, path: str, body: Any = None, *, raw: bool = False) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self._url + path, data=data, method=method)
        request.add_header("content-type", "application/json")
        if self._token:
            request.add_header("authorization", f"Bearer {self._token}")
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_S) as reply:
                text = reply.read().decode()
        except urllib.error.HTTPError as exc:
            raise InferiaError(f"{exc.code}: {_message(exc.read().decode())}") from None
        except urllib.error.URLError as exc:
            raise InferiaError(f"cannot reach {self._url}: {exc.reason}") from None
        if raw:
            return text
        return json.loads(text) if text else None


def _message(text: str) -> str:
    try:
        return str(json.loads(text)["error"]["message"])
    except (ValueError, KeyError, TypeError):
        return text[:500]


def _json_arg(value: str) -> Any:
    try:
        return json.loads(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not JSON: {value!r}") from None


def _quote(value: str) -> str:
    return urllib.parse.quote(value, safe="")


Action = Callable[[ControlApi, argparse.Namespace], Any]


def _run(action: Action) -> Callable[[argparse.Namespace], None]:
    def handler(args: argparse.Namespace) -> None:
        result = action(ControlApi.from_args(args), args)
        if isinstance(result, str):
            sys.stdout.write(result)
        elif result is not None:
            print(json.dumps(result, indent=2))

    return handler


def _optional(args: argparse.Namespace, *names: str) -> dict[str, Any]:
    return {n: getattr(args, n) for n in names if getattr(args, n) is not None}


# Actions --------------------------------------------------------------------------


def _pools_create(api: ControlApi, args: argparse.Namespace) -> Any:
    body = {"name": args.name, "provider": args.provider, "config": args.config or {}}
    body |= _optional(args, "credentials", "min_nodes", "max_nodes", "max_cost_per_hour")
    if args.gpu_type:
        body["allowed_gpu_types"] = args.gpu_type
    return api.call("POST", "/deployment/createpool", body)


def _pools_list(api: ControlApi, args: argparse.Namespace) -> Any:
    # /auth/me is on the policy plane: in split mode, name the organisation instead.
    organization = args.org or api.call("GET", "/auth/me")["organization_id"]
    return api.call("GET", f"/deployment/listPools/{_quote(organization)}")["data"]


def _models_register(api: ControlApi, args: argparse.Namespace) -> Any:
    body = {
        "name": args.name,
        "version": args.version,
        "artifact_uri": args.artifact_uri,
        "engine": args.engine,
        "engine_args": args.arg or [],
    }
    if args.command:
        body["command"] = args.command
    if args.resources is not None:
        body["resources"] = args.resources
    return api.call("POST", "/deployment/registerModel", body)


def _deploy(api: ControlApi, args: argparse.Namespace) -> Any:
    body = {"model": args.model, "version": args.version, "pool_id": args.pool}
    body |= _optional(args, "replicas", "served_name", "routing_strategy")
    if args.arg is not None:
        body["engine_args"] = args.arg
    return api.call("POST", "/deployment/deploy", body)


def _logs(api: ControlApi, args: argparse.Namespace) -> Any:
    query = urllib.parse.urlencode({"tail": args.tail})
    return api.call("GET", f"/deployment/logs/{_quote(args.id)}?{query}", raw=True)


def _nodes_list(api: ControlApi, args: argparse.Namespace) -> Any:
    query = f"?pool_id={_quote(args.pool)}" if args.pool else ""
    return api.call("GET", f"/inventory/nodes{query}")["data"]


def _nodes_register(api: ControlApi, args: argparse.Namespace) -> Any:
    body: dict[str, Any] = {"pool_id": args.pool, "provider_instance_id": args.instance_id}
    if args.capacity is not None:
        body["capacity"] = args.capacity
    return api.call("POST", "/inventory/nodes", body)


def _path(method: str, template: str, *fields: str, data: Any = None) -> Action:
    """An action that calls one path, filled from the named arguments."""

    def action(api: ControlApi, args: argparse.Namespace) -> Any:
        path = template.format(*(_quote(getattr(args, f)) for f in fields))
        body = data(args) if callable(data) else data
        reply = api.call(method, path, body)
        return reply["data"] if isinstance(reply, dict) and set(reply) == {"data"} else reply

    return action


# Parser ---------------------------------------------------------------------------


def add_control_commands(commands: Any) -> None:
    client = argparse.ArgumentParser(add_help=False)
    client.add_argument("--url", help=f"the server (INFERIA_URL; default {DEFAULT_URL})")
    client.add_argument("--token", help="a user access token (INFERIA_TOKEN)")

    def group(name: str, help_text: str) -> Any:
        parser = commands.add_parser(name, help=help_text)
        return parser.add_subparsers(dest=f"{name}_command", required=True)

    def command(sub: Any, name: str, action: Action, help_text: str) -> argparse.ArgumentParser:
        parser: argparse.ArgumentParser = sub.add_parser(name, parents=[client], help=help_text)
        parser.set_defaults(handler=_run(action))
        return parser

    pools = group("pools", "compute pools (control plane)")
    command(pools, "list", _pools_list, "the organisation's pools").add_argument(
        "--org", help="organisation id (default: the token's)"
    )
    command(pools, "get", _path("GET", "/deployment/pool/{}", "id"), "one pool").add_argument("id")
    create = command(pools, "create", _pools_create, "create a pool")
    create.add_argument("name")
    create.add_argument("--provider", default="local")
    create.add_argument("--config", type=_json_arg, help="adapter config, JSON object")
    create.add_argument("--credentials", type=_json_arg, help="JSON object (write-only)")
    create.add_argument("--gpu-type", action="append", help="allowed GPU type (repeatable)")
    create.add_argument("--min-nodes", type=int)
    create.add_argument("--max-nodes", type=int)
    create.add_argument("--max-cost-per-hour", type=float)
    command(
        pools, "delete", _path("DELETE", "/deployment/pool/{}", "id"), "delete a pool"
    ).add_argument("id")

    models = group("models", "the model registry (control plane)")
    command(models, "list", _path("GET", "/deployment/listModels"), "registered models")
    get = command(
        models, "get", _path("GET", "/deployment/getModel/{}/{}", "name", "version"), "one version"
    )
    get.add_argument("name")
    get.add_argument("version")
    register = command(models, "register", _models_register, "register a model version")
    register.add_argument("name")
    register.add_argument("version")
    register.add_argument("--artifact-uri", required=True, help="file://, hf://, s3://, ...")
    register.add_argument("--engine", required=True)
    register.add_argument("--arg", action="append", help="default engine argument (repeatable)")
    register.add_argument(
        "--command",
        type=shlex.split,
        help="server command, one shell-quoted string (openai-compatible engine)",
    )
    register.add_argument("--resources", type=_json_arg, help="JSON object")
    delete = command(
        models,
        "delete",
        _path("DELETE", "/deployment/deleteModel/{}/{}", "name", "version"),
        "delete a model version",
    )
    delete.add_argument("name")
    delete.add_argument("version")

    deployments = group("deployments", "deployments (control plane)")
    command(deployments, "list", _path("GET", "/deployment/deployments"), "deployments")
    deploy_parsers = [
        command(deployments, "create", _deploy, "deploy a model version on a pool"),
        # `inferia deploy MODEL VERSION --pool ID`: the same, for the common case.
        command(commands, "deploy", _deploy, "deploy a model version on a pool"),
    ]
    for deploy in deploy_parsers:
        _deploy_arguments(deploy)
    for name, path, help_text in (
        ("status", "GET /deployment/status/{}", "state, replicas, endpoints, events"),
        ("events", "GET /deployment/events/{}", "the event history"),
        ("terminate", "POST /deployment/terminate/{}", "stop every replica"),
    ):
        method, template = path.split(" ")
        command(deployments, name, _path(method, template, "id"), help_text).add_argument("id")
    scale = command(
        deployments,
        "scale",
        _path("POST", "/deployment/scale/{}", "id", data=lambda args: {"replicas": args.replicas}),
        "set the desired replicas",
    )
    scale.add_argument("id")
    scale.add_argument("replicas", type=int)
    logs = command(deployments, "logs", _logs, "the model servers' output")
    logs.add_argument("id")
    logs.add_argument("--tail", type=int, default=200)

    nodes = group("nodes", "the inventory (control plane)")
    command(nodes, "list", _nodes_list, "registered nodes").add_argument("--pool")
    node = command(nodes, "register", _nodes_register, "register a node; prints its token once")
    node.add_argument("--pool", required=True)
    node.add_argument("--instance-id", default="")
    node.add_argument("--capacity", type=_json_arg, help="JSON object")
    command(
        nodes,
        "delete",
        _path("DELETE", "/inventory/nodes/{}", "id"),
        "forget a node, revoke its token",
    ).add_argument("id")


def _deploy_arguments(deploy: argparse.ArgumentParser) -> None:
    deploy.add_argument("model")
    deploy.add_argument("version")
    deploy.add_argument("--pool", required=True, help="pool id")
    deploy.add_argument("--replicas", type=int)
    deploy.add_argument("--served-name")
    deploy.add_argument("--routing-strategy")
    deploy.add_argument("--arg", action="append", help="engine argument (repeatable)")
