"""Video settings refuse what would weaken the tokens: long join tokens, short secrets."""

from __future__ import annotations

import pytest

from wealist.core.settings import SettingsError, load_settings
from wealist.video.settings import VideoSettings

SECRET = "s" * 32


def test_defaults_are_safe() -> None:
    settings = load_settings(VideoSettings, "video", environ={})
    assert settings.join_token_ttl_s == 600
    assert settings.publish_sources == ["camera", "microphone", "screen_share"]
    assert not settings.livekit_configured
    assert not settings.turn_configured


def test_environment_configures_livekit_and_turn() -> None:
    settings = load_settings(
        VideoSettings,
        "video",
        environ={
            "WEALIST_VIDEO_LIVEKIT_URL": "http://livekit:7880",
            "WEALIST_VIDEO_LIVEKIT_API_KEY": "key",
            "WEALIST_VIDEO_LIVEKIT_API_SECRET": SECRET,
            "WEALIST_VIDEO_JOIN_TOKEN_TTL_S": "300",
            "WEALIST_VIDEO_TURN_SECRET": SECRET,
            "WEALIST_VIDEO_TURN_URLS": "turn:a:3478?transport=udp,turns:a:5349",
        },
    )
    assert settings.livekit_configured and settings.turn_configured
    assert settings.join_token_ttl_s == 300
    assert settings.turn_urls == ["turn:a:3478?transport=udp", "turns:a:5349"]


@pytest.mark.parametrize(
    ("variable", "value", "complaint"),
    [
        ("WEALIST_VIDEO_JOIN_TOKEN_TTL_S", "601", "join_token_ttl_s"),
        ("WEALIST_VIDEO_JOIN_TOKEN_TTL_S", "0", "join_token_ttl_s"),
        ("WEALIST_VIDEO_LIVEKIT_API_SECRET", "secret", "livekit_api_secret"),
        ("WEALIST_VIDEO_TURN_SECRET", "short", "turn_secret"),
        ("WEALIST_VIDEO_PUBLISH_SOURCES", "camera,screen", "publish_sources"),
        ("WEALIST_VIDEO_TURN_TTL_S", "0", "turn_ttl_s"),
    ],
)
def test_weak_settings_are_refused(variable: str, value: str, complaint: str) -> None:
    with pytest.raises(SettingsError, match=complaint):
        load_settings(VideoSettings, "video", environ={variable: value})
