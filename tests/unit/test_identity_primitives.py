"""The small primitives of identity: sealing secrets, TOTP steps, access tokens,
audit redaction, login throttling windows."""

from __future__ import annotations

import time

import pyotp
import pytest

from inferia.config import AuthSettings
from inferia.core.crypto import DecryptionError, SecretBox
from inferia.core.errors import AuthenticationError, RateLimitedError
from inferia.filtration.audit.redaction import MASK, redact
from inferia.filtration.identity.throttle import LoginThrottle
from inferia.filtration.identity.tokens import AccessTokenCodec
from inferia.filtration.twofactor import totp
from inferia.state import build_state_backend


def test_secret_box_seals_binds_context_and_rotates() -> None:
    old = SecretBox("old key")
    sealed = old.encrypt("JBSWY3DPEHPK3PXP", "totp:u1")
    assert "JBSWY3DPEHPK3PXP" not in sealed and sealed.startswith("v1.")
    assert old.encrypt("JBSWY3DPEHPK3PXP", "totp:u1") != sealed  # fresh nonce
    assert old.decrypt(sealed, "totp:u1") == "JBSWY3DPEHPK3PXP"
    with pytest.raises(DecryptionError):
        old.decrypt(sealed, "totp:u2")  # copied onto another row
    rotated = SecretBox("new key", ["old key"])
    assert rotated.decrypt(sealed, "totp:u1") == "JBSWY3DPEHPK3PXP"
    assert not rotated.is_current(sealed)
    assert rotated.is_current(rotated.encrypt("x", "c"))
    with pytest.raises(DecryptionError):
        SecretBox("new key").decrypt(sealed, "totp:u1")
    tampered = sealed[:-2] + ("A" if sealed[-2] != "A" else "B") + sealed[-1]
    with pytest.raises(DecryptionError):
        old.decrypt(tampered, "totp:u1")
    for garbage in ("", "plain text", "v1..", "v2.abcd.xyz"):
        with pytest.raises(DecryptionError):
            old.decrypt(garbage, "totp:u1")


def test_totp_match_step_window_and_format() -> None:
    secret = totp.new_secret()
    now = time.time()
    step = totp.current_step(now)
    code = pyotp.TOTP(secret).at(now)
    assert totp.match_step(secret, code, 1, now) == step
    later = pyotp.TOTP(secret).at(now + 30)
    assert totp.match_step(secret, later, 1, now) == step + 1
    far = pyotp.TOTP(secret).at(now + 90)
    assert totp.match_step(secret, far, 1, now) is None
    assert totp.match_step(secret, far, 3, now) == step + 3
    for bad in ("", "12345", "1234567", "abcdef", code + "0"):
        assert totp.match_step(secret, bad, 1, now) is None


def test_recovery_codes_are_random_and_normalised() -> None:
    codes = totp.new_recovery_codes()
    assert len(set(codes)) == 10 and all(len(c) == 19 for c in codes)
    digest = totp.recovery_code_digest(codes[0])
    assert totp.recovery_code_digest(codes[0].lower().replace("-", " ")) == digest
    assert codes[0] not in digest


def test_access_tokens_validate_claims_and_pin_the_algorithm() -> None:
    codec = AccessTokenCodec("a secret", AuthSettings())
    issued = codec.issue("user", "org", "session")
    claims = codec.verify(issued.token)
    assert (claims.user_id, claims.organization_id, claims.session_id) == ("user", "org", "session")
    for other in (
        AccessTokenCodec("another secret", AuthSettings()),
        AccessTokenCodec("a secret", AuthSettings(issuer="elsewhere")),
        AccessTokenCodec("a secret", AuthSettings(audience="elsewhere")),
    ):
        with pytest.raises(AuthenticationError):
            other.verify(issued.token)
    header, payload, _ = issued.token.split(".")
    with pytest.raises(AuthenticationError):
        codec.verify("eyJhbGciOiJub25lIn0." + payload + ".")
    with pytest.raises(AuthenticationError):
        codec.verify(header + "." + payload + ".AAAA")


def test_redaction_masks_secret_names_and_shapes() -> None:
    details = {
        "password": "hunter2",
        "new_api_key": "x",
        "reason": "bad_password",
        "note": "key sk-inf-abcdefghijkl-ABCDEFGHIJ and jwt eyJa.eyJb.sig here",
        "nested": {"refresh_token": "rt_whatever", "fine": [1, "rt_" + "z" * 40]},
        "key_prefix": "sk-inf-abcdefghijkl",
    }
    clean = redact(details)
    assert clean["password"] == MASK and clean["new_api_key"] == MASK
    assert clean["reason"] == "bad_password" and clean["key_prefix"] == "sk-inf-abcdefghijkl"
    assert "sk-inf-abcdefghijkl-" not in clean["note"] and "eyJa.eyJb" not in clean["note"]
    assert clean["nested"]["refresh_token"] == MASK
    assert clean["nested"]["fine"] == [1, MASK]


async def test_throttle_counts_attempts_per_account_and_resets_on_success() -> None:
    state = build_state_backend("")
    await state.start()
    try:
        auth = AuthSettings(login_max_failures_per_account=2, login_max_failures_per_address=3)
        throttle = LoginThrottle(state, auth)
        await throttle.succeeded(await throttle.reserve("A@example.com", "10.0.0.1"))
        await throttle.reserve("a@example.com", "10.0.0.1")  # a wrong guess: it counts
        await throttle.release(await throttle.reserve("a@example.com", "10.0.0.1"))
        await throttle.reserve("a@example.com", "10.0.0.1")  # the second since the reset
        with pytest.raises(RateLimitedError) as refused:
            await throttle.reserve("a@EXAMPLE.com", "10.0.0.2")  # the account, anywhere
        assert refused.value.retry_after_s is not None and refused.value.retry_after_s > 0
        await throttle.reserve("b@example.com", "10.0.0.1")
        with pytest.raises(RateLimitedError, match="address"):
            await throttle.reserve("c@example.com", "10.0.0.1")  # three from this address
        await throttle.reserve("b@example.com", "10.0.0.2")
    finally:
        await state.close()


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("password_min_length", 4),
        ("totp_window", 9),
        ("access_token_ttl_s", 0),
        ("login_max_failures_per_account", 0),
        ("argon2_memory_kib", 4),
    ],
)
def test_auth_settings_are_validated(key: str, value: int) -> None:
    from inferia.config import load_settings
    from inferia.core.errors import ConfigError

    with pytest.raises(ConfigError, match=f"auth.{key}"):
        load_settings(None, env={}, overrides={"auth": {key: value}})


def test_secret_lists_are_masked_and_never_generated(tmp_path: object) -> None:
    from pathlib import Path

    from inferia.config import load_settings, masked
    from inferia.core.secrets import resolve_secrets

    settings = load_settings(
        None,
        env={},
        overrides={
            "data_dir": str(tmp_path),
            "security": {"previous_api_key_peppers": ["old-pepper"]},
        },
    )
    shown = masked(settings)["security"]
    assert shown["previous_api_key_peppers"] == ["********"]
    resolved = resolve_secrets(settings)
    assert resolved.security.previous_encryption_keys == []
    assert resolved.security.previous_api_key_peppers == ["old-pepper"]
    assert resolved.security.secret_key and (Path(str(tmp_path)) / "secrets.json").exists()
