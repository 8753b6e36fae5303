"""Settings: file, environment and flags; errors that name the key."""

from __future__ import annotations

import tomllib
from pathlib import Path

import msgspec
import pytest

from inferia.config import Settings, load_settings, masked
from inferia.core.errors import ConfigError

REPO = Path(__file__).resolve().parents[2]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "inferia.toml"
    path.write_text(text)
    return path


def flatten(data: dict[str, object], prefix: str = "") -> set[str]:
    keys: set[str] = set()
    for key, value in data.items():
        if isinstance(value, dict):
            keys |= flatten(value, f"{prefix}{key}.")
        else:
            keys.add(f"{prefix}{key}")
    return keys


def test_repository_file_lists_every_setting_with_its_default() -> None:
    text = (REPO / "inferia.toml").read_text()
    # `models` is a list of [[models]] tables: the file shows it as a commented example.
    defaults = flatten(msgspec.to_builtins(Settings())) - {"models"}
    assert "# [[models]]" in text
    assert flatten(tomllib.loads(text)) == defaults
    assert load_settings(REPO / "inferia.toml", env={}) == Settings()


def test_every_setting_is_documented() -> None:
    doc = (REPO / "docs" / "configuration.md").read_text()
    for key in flatten(msgspec.to_builtins(Settings())):
        assert f"`{key.rsplit('.', 1)[-1]}`" in doc, key


def test_unknown_key_names_the_key(tmp_path: Path) -> None:
    path = write(tmp_path, "[server]\nprot = 9000\n")
    with pytest.raises(ConfigError, match=r"unknown setting 'server\.prot'"):
        load_settings(path, env={})


def test_unknown_top_level_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="unknown setting 'colour'"):
        load_settings(write(tmp_path, 'colour = "blue"\n'), env={})


def test_wrong_type_names_key_and_expectation(tmp_path: Path) -> None:
    path = write(tmp_path, '[server]\nport = "eighty"\n')
    with pytest.raises(ConfigError, match=r"'server\.port'.*Expected `int`, got `str`"):
        load_settings(path, env={})


def test_invalid_choice(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"'logging\.format'"):
        load_settings(write(tmp_path, '[logging]\nformat = "xml"\n'), env={})


def test_environment_overrides_file(tmp_path: Path) -> None:
    path = write(tmp_path, "[server]\nport = 9000\nworkers = 2\n")
    env = {
        "INFERIA_SERVER__PORT": "9100",
        "INFERIA_STATE__URL": "redis://127.0.0.1:6379/3",
        "INFERIA_PLANES": '["inference"]',
        "INFERIA_ADMIN_EMAIL": "not-a-setting@example.com",
    }
    settings = load_settings(path, env=env)
    assert settings.server.port == 9100
    assert settings.server.workers == 2
    assert settings.state.url == "redis://127.0.0.1:6379/3"
    assert settings.planes == ["inference"]


def test_unknown_environment_key_in_a_known_section_is_an_error() -> None:
    with pytest.raises(ConfigError, match=r"'server\.colour'"):
        load_settings(None, env={"INFERIA_SERVER__COLOUR": "blue"})


def test_config_file_from_environment(tmp_path: Path) -> None:
    path = write(tmp_path, "[server]\nworkers = 3\n")
    assert load_settings(None, env={"INFERIA_CONFIG": str(path)}).server.workers == 3


def test_missing_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_settings(tmp_path / "nope.toml", env={})


def test_flag_overrides_win() -> None:
    settings = load_settings(
        None, env={"INFERIA_SERVER__PORT": "1"}, overrides={"server": {"port": 2}}
    )
    assert settings.server.port == 2


def test_port_defaults_follow_the_planes() -> None:
    assert load_settings(None, env={}).http_port() == 8000
    only = {"INFERIA_PLANES": '["inference"]'}
    assert load_settings(None, env=only).http_port() == 8001
    assert load_settings(None, env={"INFERIA_PLANES": '["orchestration"]'}).http_port() == 8080
    assert load_settings(None, env={"INFERIA_PLANES": '["dashboard"]'}).http_port() == 3001


def test_settings_are_frozen() -> None:
    with pytest.raises(AttributeError):
        Settings().server.port = 1  # type: ignore[misc]


def test_masked_hides_secrets_and_url_passwords() -> None:
    env = {
        "INFERIA_SECURITY__API_KEY_PEPPER": "pepper-value",
        "INFERIA_DATABASE__URL": "postgresql://inferia:hunter2@db:5432/inferia",
    }
    shown = masked(load_settings(None, env=env))
    assert shown["security"]["api_key_pepper"] == "********"
    assert "hunter2" not in str(shown)
    assert shown["database"]["url"] == "postgresql://inferia:********@db:5432/inferia"
