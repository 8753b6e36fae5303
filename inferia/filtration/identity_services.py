"""The identity side's services, built once per process from one ``Changes``.

The filtration plane (inferia/filtration/plane.py) and the CLI's admin actions
(inferia/cli/admin_actions.py) both build this, so a change made from either goes
through the same services, audit trail and change announcements.
"""

from __future__ import annotations

from inferia.config import Settings
from inferia.core.crypto import SecretBox
from inferia.filtration.api_keys.service import ApiKeyService
from inferia.filtration.api_keys.store import ApiKeyStore
from inferia.filtration.changes import Changes
from inferia.filtration.identity.password_change import PasswordChanges
from inferia.filtration.identity.passwords import PasswordHasher
from inferia.filtration.identity.service import AuthService
from inferia.filtration.identity.throttle import LoginThrottle
from inferia.filtration.identity.tokens import AccessTokenCodec
from inferia.filtration.invitations.service import InvitationService
from inferia.filtration.members.service import MemberService
from inferia.filtration.organizations.service import OrganizationService
from inferia.filtration.roles.service import RoleService
from inferia.filtration.twofactor.service import TwoFactor
from inferia.state import StateBackend


class IdentityServices:
    def __init__(self, settings: Settings, state: StateBackend, changes: Changes) -> None:
        auth, security = settings.auth, settings.security
        self.changes = changes
        self.tokens = AccessTokenCodec(security.secret_key, auth)
        hasher = PasswordHasher.from_settings(auth)
        box = SecretBox(security.encryption_key, security.previous_encryption_keys)
        throttle = LoginThrottle(state, auth)
        self.two_factor = TwoFactor(changes, box, hasher, throttle, auth)
        self.auth = AuthService(changes, hasher, self.tokens, self.two_factor, throttle, auth)
        self.passwords = PasswordChanges(changes, hasher, throttle, auth)
        self.organizations = OrganizationService(changes)
        self.roles = RoleService(changes)
        self.members = MemberService(changes, hasher, self.roles, auth.password_min_length)
        self.invitations = InvitationService(
            changes, hasher, self.roles, throttle, self.two_factor, auth
        )
        self.api_key_store = ApiKeyStore(
            security.api_key_pepper, previous_peppers=security.previous_api_key_peppers
        )
        self.api_keys = ApiKeyService(self.api_key_store, changes)
