"""``inferia admin ...`` and the extra ``inferia keys ...`` commands: operator
actions on organisations, members and secrets, without the dashboard."""

from __future__ import annotations

import argparse
import asyncio
import json
from collections.abc import Callable, Coroutine
from typing import Any

from inferia.config import Settings

Work = Callable[[Settings], Coroutine[Any, Any, None]]
SettingsOf = Callable[[argparse.Namespace], Settings]


def _run(settings_of: SettingsOf, args: argparse.Namespace, work: Work) -> None:
    asyncio.run(work(settings_of(args)))


def add_admin_commands(
    commands: Any, common: argparse.ArgumentParser, settings_of: SettingsOf
) -> None:
    def create_org(args: argparse.Namespace) -> None:
        from inferia.cli.admin_actions import create_organization

        async def work(settings: Settings) -> None:
            organization_id = await create_organization(settings, args.slug, args.name, args.owner)
            print(f"created organisation {args.slug} ({organization_id})")

        _run(settings_of, args, work)

    def verify(args: argparse.Namespace) -> None:
        from inferia.cli.admin_actions import verify_email

        async def work(settings: Settings) -> None:
            user_id = await verify_email(settings, args.email)
            print(f"{args.email}: e-mail address verified ({user_id})")

        _run(settings_of, args, work)

    def list_users(args: argparse.Namespace) -> None:
        from inferia.cli.admin_actions import list_members

        async def work(settings: Settings) -> None:
            for member in await list_members(settings, args.org):
                state = "active" if member.active and member.account_active else "disabled"
                print(f"{member.user_id}  {member.email}  {member.role}  {state}")

        _run(settings_of, args, work)

    def set_member(args: argparse.Namespace, **changes: Any) -> None:
        from inferia.cli.admin_actions import update_member

        async def work(settings: Settings) -> None:
            member = await update_member(settings, args.org, args.email, **changes)
            print(f"{member.email}: role={member.role} active={member.active}")

        _run(settings_of, args, work)

    def reencrypt(args: argparse.Namespace) -> None:
        from inferia.cli.admin_actions import reencrypt_secrets

        async def work(settings: Settings) -> None:
            count = await reencrypt_secrets(settings)
            print(f"re-encrypted {count} secret(s) under the current encryption key")

        _run(settings_of, args, work)

    parser = commands.add_parser("create-org", parents=[common], help="add an organisation")
    parser.add_argument("--slug", required=True)
    parser.add_argument("--name", default="")
    parser.add_argument(
        "--owner", required=True, help="e-mail of an existing user, verified (verify-email)"
    )
    parser.set_defaults(handler=create_org)

    parser = commands.add_parser(
        "verify-email",
        parents=[common],
        help="vouch that an account's person controls its e-mail address",
    )
    parser.add_argument("--email", required=True)
    parser.set_defaults(handler=verify)

    parser = commands.add_parser("list-users", parents=[common], help="members of an org")
    parser.add_argument("--org", default="default")
    parser.set_defaults(handler=list_users)

    parser = commands.add_parser("set-role", parents=[common], help="assign a member's role")
    parser.add_argument("--org", default="default")
    parser.add_argument("--email", required=True)
    parser.add_argument("--role", required=True)
    parser.set_defaults(handler=lambda a: set_member(a, role=a.role))

    for name, active in (("disable-user", False), ("enable-user", True)):
        parser = commands.add_parser(name, parents=[common], help=f"{name.split('-')[0]} a member")
        parser.add_argument("--org", default="default")
        parser.add_argument("--email", required=True)
        parser.add_argument(
            "--account", action="store_true", help="the account in every organisation"
        )
        parser.set_defaults(
            handler=lambda a, active=active: set_member(
                a, **({"account_active": active} if a.account else {"active": active})
            )
        )

    def reset_password(args: argparse.Namespace) -> None:
        from inferia.cli.admin_actions import reset_password as reset
        from inferia.cli.password_input import read_new_password

        password = read_new_password()

        async def work(settings: Settings) -> None:
            user_id = await reset(settings, args.email, password)
            print(f"{args.email}: password reset, every session ended ({user_id})")

        _run(settings_of, args, work)

    parser = commands.add_parser(
        "reset-password",
        parents=[common],
        help="set an account's password (asked for, or one line on stdin); ends its sessions",
    )
    parser.add_argument("email")
    parser.set_defaults(handler=reset_password)

    parser = commands.add_parser(
        "reencrypt-secrets", parents=[common], help="re-seal secrets after a key rotation"
    )
    parser.set_defaults(handler=reencrypt)


def add_key_commands(
    commands: Any, common: argparse.ArgumentParser, settings_of: SettingsOf
) -> None:
    def pepper_status(args: argparse.Namespace) -> None:
        from inferia.cli.admin_actions import pepper_status as status

        async def work(settings: Settings) -> None:
            print(json.dumps(await status(settings)))

        _run(settings_of, args, work)

    parser = commands.add_parser(
        "pepper-status", parents=[common], help="live keys per pepper (rotation progress)"
    )
    parser.set_defaults(handler=pepper_status)
