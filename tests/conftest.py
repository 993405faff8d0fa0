"""Test configuration: the harness plugin provides servers, databases, tokens and apps."""

pytest_plugins = [
    "tests.plugins.harness",
    "tests.plugins.oidc_provider",
    "tests.plugins.s3_server",
    "tests.plugins.livekit_server",
    "tests.plugins.coturn",
    "tests.plugins.smtp_server",
    "tests.plugins.nginx",
    "tests.plugins.prometheus",
    "tests.plugins.faultproxy",
]
