"""The ``inferia`` command: serve, migrate, config, admin, keys, and the control plane's
pools, models, deployments and nodes (over a running server's REST API)."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Callable, Coroutine, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from inferia import __version__
from inferia.cli.admin import add_admin_commands, add_key_commands
from inferia.cli.control import add_control_commands
from inferia.config import ALL_PLANES, Settings, load_settings, masked
from inferia.core.errors import InferiaError
from inferia.core.logging import configure_logging
from inferia.core.secrets import resolve_secrets


def _settings(args: argparse.Namespace, *, existing: bool = False) -> Settings:
    """The command's settings; ``existing``: the command acts on an installation that
    must exist already (every one but serve and migrate), and says which it uses."""
    overrides: dict[str, Any] = {}
    server: dict[str, Any] = {}
    for flag in ("host", "port", "workers"):
        value = getattr(args, flag, None)
        if value is not None:
            server[flag] = value
    if server:
        overrides["server"] = server
    if getattr(args, "plane", None):
        overrides["planes"] = list(dict.fromkeys(args.plane))
    if args.data_dir:
        overrides["data_dir"] = args.data_dir
    settings = load_settings(args.config, overrides=overrides)
    if existing:
        from inferia.cli.preflight import describe_storage, require_installation

        require_installation(settings)  # before resolve_secrets could write any
        print(f"# {describe_storage(settings)}", file=sys.stderr)
    settings = resolve_secrets(settings)
    configure_logging(settings.logging)
    return settings


def _existing_settings(args: argparse.Namespace) -> Settings:
    return _settings(args, existing=True)


def cmd_serve(args: argparse.Namespace) -> None:
    from inferia.cli.serve import serve

    settings = _settings(args)
    if args.demo or settings.server.demo:
        from inferia.config.demo import with_demo_model

        settings = with_demo_model(settings)
        print(
            'inferia: demo mode: model "demo-echo" echoes your last message back; '
            "it is a demo, not a model (see README.md to add real ones)",
            file=sys.stderr,
        )
    serve(settings)


def cmd_migrate(args: argparse.Namespace) -> None:
    from inferia.cli.preflight import describe_storage, prepare_storage

    settings = _settings(args)
    applied = asyncio.run(prepare_storage(settings, migrate=True))
    where = describe_storage(settings)
    if applied:
        print(f"applied {len(applied)} migration(s) to {where}: {', '.join(applied)}")
    else:
        print(f"nothing to apply: {where} is up to date")


def cmd_config_show(args: argparse.Namespace) -> None:
    from inferia.cli.preflight import check_settings

    settings = load_settings(args.config)
    check_settings(settings)  # what serve would refuse, refused here too
    print(json.dumps(masked(settings), indent=2))


def _with_database(
    args: argparse.Namespace, work: Callable[[Settings], Coroutine[Any, Any, None]]
) -> None:
    """Run one admin operation against the configured database and state backend."""
    asyncio.run(work(_existing_settings(args)))


def cmd_admin_create_user(args: argparse.Namespace) -> None:
    from inferia.cli.admin_actions import create_user

    async def work(settings: Settings) -> None:
        user = await create_user(settings, args.email, args.password, args.org, args.role)
        print(f"created user {user}")

    _with_database(args, work)


def cmd_keys_create(args: argparse.Namespace) -> None:
    from inferia.cli.admin_actions import create_key

    try:
        expires = datetime.fromisoformat(args.expires).astimezone(UTC) if args.expires else None
    except ValueError:
        raise InferiaError(f"--expires: not an ISO 8601 time: {args.expires!r}") from None

    from inferia.cli.admin_actions import key_limits_from_flags

    limits = key_limits_from_flags(args)  # validated before the key exists

    async def work(settings: Settings) -> None:
        created = await create_key(
            settings,
            args.org,
            args.name,
            models=args.model or [],
            expires_at=expires,
            limits=limits,
        )
        print(f"# id {created.record.id}, prefix {created.record.prefix}", file=sys.stderr)
        print(created.key)

    _with_database(args, work)


def cmd_keys_list(args: argparse.Namespace) -> None:
    from inferia.cli.admin_actions import list_keys

    async def work(settings: Settings) -> None:
        for record in await list_keys(settings, args.org, include_revoked=args.all):
            models = ",".join(record.allowed_models) or "*"
            state = " revoked" if record.revoked_at else ""
            print(f"{record.id}  {record.prefix}  {record.name}  models={models}{state}")

    _with_database(args, work)


def cmd_keys_revoke(args: argparse.Namespace) -> None:
    from inferia.cli.admin_actions import revoke_key

    async def work(settings: Settings) -> None:
        record = await revoke_key(settings, args.key)
        print(f"revoked {record.prefix} ({record.id})")

    _with_database(args, work)


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", type=Path, default=None, help="inferia.toml to read")
    common.add_argument("--data-dir", default=None, help="data directory (SQLite, secrets)")

    parser = argparse.ArgumentParser(prog="inferia", description="Inferia LLM platform")
    parser.add_argument("--version", action="version", version=f"inferia {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", parents=[common], help="run the planes (default: all)")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--workers", type=int)
    serve.add_argument(
        "--plane", action="append", choices=ALL_PLANES, help="serve only this plane (repeatable)"
    )
    serve.add_argument(
        "--demo",
        action="store_true",
        help='also serve "demo-echo", a built-in echo model (a demo, not a model)',
    )
    serve.set_defaults(handler=cmd_serve)

    migrate = commands.add_parser("migrate", parents=[common], help="apply database migrations")
    migrate.set_defaults(handler=cmd_migrate)

    config = commands.add_parser("config", help="inspect configuration")
    config_commands = config.add_subparsers(dest="config_command", required=True)
    show = config_commands.add_parser("show", parents=[common], help="effective settings")
    show.set_defaults(handler=cmd_config_show)

    admin = commands.add_parser("admin", help="operator actions on users")
    admin_commands = admin.add_subparsers(dest="admin_command", required=True)
    create_user = admin_commands.add_parser(
        "create-user", parents=[common], help="add an account to an organisation"
    )
    create_user.add_argument("--email", required=True)
    create_user.add_argument("--password", required=True)
    create_user.add_argument("--org", default="default")
    create_user.add_argument("--role", default="member")
    create_user.set_defaults(handler=cmd_admin_create_user)
    add_admin_commands(admin_commands, common, _existing_settings)

    keys = commands.add_parser("keys", help="API keys")
    key_commands = keys.add_subparsers(dest="keys_command", required=True)
    key_create = key_commands.add_parser("create", parents=[common], help="issue a key")
    key_create.add_argument("--org", default="default")
    key_create.add_argument("--name", required=True)
    key_create.add_argument("--model", action="append", help="allow only this model (repeatable)")
    key_create.add_argument("--expires", help="ISO 8601 expiry time")
    # Limits of the new key (an api_key policy); see docs/limits.md.
    key_create.add_argument("--rpm", type=int, help="requests per minute")
    key_create.add_argument("--tpm", type=int, help="tokens per minute")
    key_create.add_argument("--max-parallel", type=int, help="concurrent requests")
    key_create.add_argument("--daily-tokens", type=int, help="tokens per day")
    key_create.add_argument("--monthly-budget", type=float, help="USD per 30 days")
    key_create.set_defaults(handler=cmd_keys_create)
    key_list = key_commands.add_parser("list", parents=[common], help="keys of an organisation")
    key_list.add_argument("--org", default="default")
    key_list.add_argument("--all", action="store_true", help="include revoked keys")
    key_list.set_defaults(handler=cmd_keys_list)
    key_revoke = key_commands.add_parser("revoke", parents=[common], help="revoke a key")
    key_revoke.add_argument("key", help="key id or prefix (sk-inf-<public id>)")
    key_revoke.set_defaults(handler=cmd_keys_revoke)
    add_key_commands(key_commands, common, _existing_settings)
    add_control_commands(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    try:
        args.handler(args)
    except InferiaError as exc:
        print(f"inferia: error: {exc.message}", file=sys.stderr)
        raise SystemExit(2) from None
    except KeyboardInterrupt:
        raise SystemExit(130) from None
