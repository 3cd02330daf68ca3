"""A real S3-compatible endpoint on localhost (moto's server), for archive tests."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3
from moto.server import ThreadedMotoServer

ACCESS_KEY = "AKIDTEST"
SECRET = "s3cr3t-never-in-logs-0123456789"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def moto_server() -> Iterator[str]:
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


def raw_client(endpoint: str) -> Any:
    return boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                        aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET)


def new_bucket(endpoint: str) -> str:
    bucket = f"receipts-{os.urandom(4).hex()}"
    raw_client(endpoint).create_bucket(Bucket=bucket)
    return bucket


def s3_settings(endpoint: str, bucket: str) -> dict[str, Any]:
    """Settings fields selecting the S3 backend on `endpoint`."""
    from pydantic import SecretStr

    return {"archive_backend": "s3", "s3_endpoint_url": endpoint, "s3_bucket": bucket,
            "s3_region": "us-east-1", "s3_access_key_id": ACCESS_KEY,
            "s3_secret_access_key": SecretStr(SECRET)}
