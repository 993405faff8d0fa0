"""An S3-compatible server process for tests that checks SigV4 signatures like S3 does.

moto stores objects faithfully but accepts any signature and ignores expiry, so a
presigned PUT with a bigger body or another Content-Type would pass, where S3 or MinIO
answer 403. Here moto's WSGI app sits behind a middleware that recomputes every request's
SigV4 signature (query-string and header forms) and refuses mismatches, unknown keys
and expired URLs with S3's XML errors.

    python -m tests.plugins.s3_server --port 0     # prints "PORT <n>" once listening
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, quote

import pytest

ACCESS_KEY = "wealist-test"
SECRET_KEY = "wealist-test-secret-0123456789abcdefghij"  # 40 characters, like AWS's
REGION = "us-east-1"
BUCKET = "wealist-test"
ALGORITHM = "AWS4-HMAC-SHA256"

Environ = dict[str, Any]
StartResponse = Callable[..., Any]
App = Callable[[Environ, StartResponse], Iterable[bytes]]


# --- SigV4 ------------------------------------------------------------------------------


def _header(environ: Environ, name: str) -> str:
    if name == "content-type":
        value = environ.get("CONTENT_TYPE", "")
    elif name == "content-length":
        value = environ.get("CONTENT_LENGTH", "")
    else:
        value = environ.get("HTTP_" + name.upper().replace("-", "_"), "")
    return " ".join(str(value).split())


def _canonical_query(pairs: list[tuple[str, str]]) -> str:
    encoded = sorted((quote(k, safe="-_.~"), quote(v, safe="-_.~")) for k, v in pairs)
    return "&".join(f"{k}={v}" for k, v in encoded)


def _signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    key = f"AWS4{secret}".encode()
    for part in (date, region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


@dataclass
class Signed:
    credential: str
    amz_date: str
    signed_headers: list[str]
    signature: str
    payload_hash: str
    query: list[tuple[str, str]]  # the query string the signature covers
    expires: int | None


def _signed(environ: Environ) -> Signed | None:
    query = parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True)
    params = dict(query)
    if params.get("X-Amz-Algorithm") == ALGORITHM:
        return Signed(
            credential=params.get("X-Amz-Credential", ""),
            amz_date=params.get("X-Amz-Date", ""),
            signed_headers=params.get("X-Amz-SignedHeaders", "").split(";"),
            signature=params.get("X-Amz-Signature", ""),
            payload_hash="UNSIGNED-PAYLOAD",
            query=[(k, v) for k, v in query if k != "X-Amz-Signature"],
            expires=int(params.get("X-Amz-Expires", "0") or 0),
        )
    authorization = environ.get("HTTP_AUTHORIZATION", "")
    if authorization.startswith(ALGORITHM + " "):
        fields = dict(
            part.strip().split("=", 1) for part in authorization[len(ALGORITHM) :].split(",")
        )
        return Signed(
            credential=fields.get("Credential", ""),
            amz_date=environ.get("HTTP_X_AMZ_DATE", ""),
            signed_headers=fields.get("SignedHeaders", "").split(";"),
            signature=fields.get("Signature", ""),
            payload_hash=environ.get("HTTP_X_AMZ_CONTENT_SHA256", "UNSIGNED-PAYLOAD"),
            query=query,
            expires=None,
        )
    return None


def check_signature(environ: Environ, now: float | None = None) -> tuple[str, str] | None:
    """None when the request is signed correctly; else S3's (error code, message)."""
    signed = _signed(environ)
    if signed is None:
        return ("AccessDenied", "Anonymous access is not allowed")
    access_key, _, scope = signed.credential.partition("/")
    if access_key != ACCESS_KEY:
        return ("InvalidAccessKeyId", "The access key does not exist")
    try:
        issued = datetime.strptime(signed.amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    except ValueError:
        return ("AccessDenied", "X-Amz-Date is malformed")
    if signed.expires is not None and issued.timestamp() + signed.expires < (now or time.time()):
        return ("AccessDenied", "Request has expired")
    date, region, service, _ = [*scope.split("/"), "", "", "", ""][:4]
    raw_path = environ.get("RAW_URI") or environ.get("REQUEST_URI") or environ["PATH_INFO"]
    canonical = "\n".join(
        [
            environ["REQUEST_METHOD"],
            raw_path.split("?", 1)[0],
            _canonical_query(signed.query),
            "".join(f"{h}:{_header(environ, h)}\n" for h in signed.signed_headers),
            ";".join(signed.signed_headers),
            signed.payload_hash,
        ]
    )
    to_sign = "\n".join(
        [ALGORITHM, signed.amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()]
    )
    expected = hmac.new(
        _signing_key(SECRET_KEY, date, region, service), to_sign.encode(), hashlib.sha256
    ).hexdigest()
    if not hmac.compare_digest(expected, signed.signature):
        return ("SignatureDoesNotMatch", "The request signature does not match")
    return None


def verifying(app: App) -> App:
    """WSGI middleware: S3's 403 for every request whose signature does not check out."""

    def wrapped(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        if environ["PATH_INFO"].startswith("/moto-api"):
            return app(environ, start_response)
        refused = check_signature(environ)
        if refused is None:
            return app(environ, start_response)
        length = int(environ.get("CONTENT_LENGTH") or 0)
        if length:  # drain the body so the connection stays usable
            environ["wsgi.input"].read(length)
        code, message = refused
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>'
            f"<Error><Code>{code}</Code><Message>{message}</Message></Error>"
        ).encode()
        start_response(
            "403 Forbidden",
            [("Content-Type", "application/xml"), ("Content-Length", str(len(body)))],
        )
        return [body]

    return wrapped


def serve(port: int) -> None:
    from moto.server import DomainDispatcherApplication, create_backend_app
    from werkzeug.serving import make_server

    app = verifying(DomainDispatcherApplication(create_backend_app))
    server = make_server("127.0.0.1", port, app, threaded=True)
    print(f"PORT {server.server_port}", flush=True)  # noqa: T201  # the parent reads it
    server.serve_forever()


# --- the fixture ------------------------------------------------------------------------


@dataclass
class S3Server:
    endpoint: str
    bucket: str = BUCKET
    region: str = REGION
    access_key: str = ACCESS_KEY
    secret_key: str = SECRET_KEY

    def settings(self) -> dict[str, str]:
        """CoreSettings overrides that point a service at this server."""
        return {
            "s3_bucket": self.bucket,
            "s3_endpoint": self.endpoint,
            "s3_public_endpoint": self.endpoint,
            "s3_access_key": self.access_key,
            "s3_secret_key": self.secret_key,
            "s3_region": self.region,
        }

    def env(self) -> dict[str, str]:
        return {f"WEALIST_{k.upper()}": v for k, v in self.settings().items()}


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.plugins.s3_server", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if not line.startswith("PORT "):
            raise RuntimeError(f"the S3 test server did not start (exit {proc.poll()})")
        server = S3Server(endpoint=f"http://127.0.0.1:{int(line.split()[1])}")
        import boto3  # a sync client is enough to make the bucket
        from botocore.config import Config

        boto3.client(
            "s3",
            endpoint_url=server.endpoint,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
            region_name=REGION,
            config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
        ).create_bucket(Bucket=BUCKET)
        yield server
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        if proc.stdout is not None:
            proc.stdout.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=0)
    serve(parser.parse_args().port)
