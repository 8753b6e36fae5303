"""Builds the identity and access services of one filtration plane, and their routes."""

from __future__ import annotations

from litestar.types import ControllerRouterHandler

from inferia.config import Settings
from inferia.core.crypto import SecretBox
from inferia.db import Database
from inferia.filtration.audit import AuditTrail
from inferia.filtration.audit.routes import audit_controller
from inferia.filtration.identity.auth import AuthService
from inferia.filtration.identity.invitations import InvitationService
from inferia.filtration.identity.members import MemberService
from inferia.filtration.identity.passwords import PasswordHasher
from inferia.filtration.identity.roles import RoleService
from inferia.filtration.identity.routes import auth_controller
from inferia.filtration.identity.throttle import LoginThrottle
from inferia.filtration.identity.tokens import AccessTokenCodec
from inferia.filtration.identity.twofactor import TwoFactor
from inferia.filtration.keys import ApiKeyStore
from inferia.filtration.management.admin import (
    invitations_controller,
    roles_controller,
    users_controller,
)
from inferia.filtration.management.api_keys import api_keys_controller
from inferia.state import StateBackend


class IdentityServices:
    def __init__(
        self,
        settings: Settings,
        database: Database,
        state: StateBackend,
        audit: AuditTrail,
        tokens: AccessTokenCodec,
    ) -> None:
        auth, security = settings.auth, settings.security
        self.audit = audit
        self.hasher = PasswordHasher.from_settings(auth)
        self.box = SecretBox(security.encryption_key, security.previous_encryption_keys)
        self.throttle = LoginThrottle(state, auth)
        self.two_factor = TwoFactor(database, self.box, self.hasher, audit, self.throttle, auth)
        self.auth = AuthService(
            database, self.hasher, tokens, self.two_factor, self.throttle, audit, auth
        )
        self.roles = RoleService(database, audit)
        self.members = MemberService(
            database, self.hasher, self.roles, audit, auth.password_min_length
        )
        self.invitations = InvitationService(
            database, self.hasher, self.roles, audit, self.throttle, auth
        )
        self.api_keys = ApiKeyStore(
            database,
            state,
            audit,
            security.api_key_pepper,
            previous_peppers=security.previous_api_key_peppers,
        )

    def routes(self) -> list[ControllerRouterHandler]:
        return [
            auth_controller(self.auth, self.two_factor, self.invitations),
            api_keys_controller(self.api_keys),
            users_controller(self.members),
            roles_controller(self.roles),
            invitations_controller(self.invitations),
            audit_controller(self.audit),
        ]
