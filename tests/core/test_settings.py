"""Settings come from WEALIST_<SVC>_X, then WEALIST_X, or their *_FILE; errors name the variable."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest

from wealist.core.settings import CoreSettings, SettingsError, load_settings


def test_defaults_without_environment() -> None:
    settings = load_settings(CoreSettings, "board", environ={})
    assert settings.workers == 1
    assert settings.database_url_for("board_db") == "postgresql://127.0.0.1:5432/board_db"


def test_service_prefix_wins_over_the_shared_one() -> None:
    env = {"WEALIST_WORKERS": "2", "WEALIST_BOARD_WORKERS": "4", "WEALIST_CHAT_WORKERS": "9"}
    assert load_settings(CoreSettings, "board", environ=env).workers == 4
    assert load_settings(CoreSettings, "user", environ=env).workers == 2


def test_values_are_converted_from_strings() -> None:
    env = {
        "WEALIST_MIGRATE_ON_START": "true",
        "WEALIST_DB_POOL_TIMEOUT_S": "2.5",
        "WEALIST_CORS_ORIGINS": "https://a.example, https://b.example",
    }
    settings = load_settings(CoreSettings, "user", environ=env)
    assert settings.migrate_on_start is True
    assert settings.db_pool_timeout_s == 2.5
    assert settings.cors_origins == ["https://a.example", "https://b.example"]


def test_secrets_can_come_from_files(tmp_path: Path) -> None:
    secret = tmp_path / "key"
    secret.write_text("s3cret-value\n")
    env = {"WEALIST_NOTI_INTERNAL_API_KEY_FILE": str(secret)}
    assert load_settings(CoreSettings, "noti", environ=env).internal_api_key == "s3cret-value"


def test_unreadable_secret_file_names_the_variable(tmp_path: Path) -> None:
    env = {"WEALIST_INTERNAL_API_KEY_FILE": str(tmp_path / "missing")}
    with pytest.raises(SettingsError, match="WEALIST_INTERNAL_API_KEY_FILE"):
        load_settings(CoreSettings, "noti", environ=env)


def test_invalid_value_names_the_variable_that_held_it() -> None:
    with pytest.raises(SettingsError, match=r"^WEALIST_BOARD_WORKERS: Expected `int`"):
        load_settings(CoreSettings, "board", environ={"WEALIST_BOARD_WORKERS": "many"})
    with pytest.raises(SettingsError, match=r"^WEALIST_DB_POOL_MAX: "):
        load_settings(CoreSettings, "board", environ={"WEALIST_DB_POOL_MAX": "ten"})


def test_explicit_database_url_is_used_as_is() -> None:
    env = {"WEALIST_CHAT_DATABASE_URL": "postgresql://db.internal:5432/chat"}
    settings = load_settings(CoreSettings, "chat", environ=env)
    assert settings.database_url_for("chat_db") == "postgresql://db.internal:5432/chat"


def test_postgres_url_is_repointed_per_service_database() -> None:
    env = {"WEALIST_POSTGRES_URL": "postgresql://app:pw@10.0.0.5:6432/postgres?sslmode=require"}
    settings = load_settings(CoreSettings, "video", environ=env)
    assert (
        settings.database_url_for("video_db")
        == "postgresql://app:pw@10.0.0.5:6432/video_db?sslmode=require"
    )


class Provider(msgspec.Struct, frozen=True):
    issuer: str
    client_id: str


class WithMappings(CoreSettings, frozen=True, kw_only=True):
    providers: dict[str, Provider] = msgspec.field(default_factory=dict)


def test_mapping_settings_are_json_objects() -> None:
    env = {
        "WEALIST_PROVIDERS": '{"kakao": {"issuer": "https://kauth.kakao.com", "client_id": "c"}}'
    }
    settings = load_settings(WithMappings, "auth", environ=env)
    assert settings.providers == {"kakao": Provider("https://kauth.kakao.com", "c")}
    with pytest.raises(SettingsError, match=r"^WEALIST_PROVIDERS: not valid JSON"):
        load_settings(WithMappings, "auth", environ={"WEALIST_PROVIDERS": "kakao=x"})
    with pytest.raises(SettingsError, match=r"^WEALIST_PROVIDERS: "):
        load_settings(WithMappings, "auth", environ={"WEALIST_PROVIDERS": '{"k": {"issuer": 1}}'})
