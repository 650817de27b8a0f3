"""The implementations under comparison, each built fresh (new client, cold cache) for every run.

``boto3`` is the hand-written minimum every other number is a ratio to.  Peers are optional:
an implementation whose library is missing is reported as "not installed".
"""

from __future__ import annotations

import importlib.util
import tempfile
from dataclasses import dataclass
from typing import Any

CREDENTIALS = {"aws_access_key_id": "bench-key", "aws_secret_access_key": "bench-secret"}


@dataclass
class Context:
    """What one run of one workload gets: the endpoint, the bucket and a path factory."""

    endpoint: str
    bucket: str
    impl: str
    state: Any = None
    data: Any = None

    def path(self, key: str = "") -> Any:
        return self.state.path(self.bucket, key)


class Boto3Minimal:
    """Plain boto3 calls: the fewest requests a careful hand-written script would make."""

    name = "boto3"
    module = "boto3"

    def __init__(self, endpoint: str):
        import boto3

        self.client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", **CREDENTIALS)


class TfmJupyter:
    name = "tfm_jupyter"
    module = "tfm_jupyter"

    def __init__(self, endpoint: str):
        from tfm_jupyter import configure_s3
        from tfm_jupyter.s3 import client

        configure_s3(endpoint_url=endpoint, region="us-east-1", aws_access_key_id=CREDENTIALS["aws_access_key_id"],
                     aws_secret_access_key=CREDENTIALS["aws_secret_access_key"])  # also clears the cache
        client.get_client()  # built outside the timed region, like every peer's client

    def path(self, bucket: str, key: str) -> Any:
        from tfm_jupyter import Path

        return Path(f"s3://{bucket}/{key}")


class CloudPathLib:
    name = "cloudpathlib"
    module = "cloudpathlib"

    def __init__(self, endpoint: str):
        from cloudpathlib import S3Client

        self.cache_dir = tempfile.mkdtemp(prefix="bench-cloudpathlib-")
        self.client = S3Client(endpoint_url=endpoint, local_cache_dir=self.cache_dir, **CREDENTIALS)

    def path(self, bucket: str, key: str) -> Any:
        return self.client.CloudPath(f"s3://{bucket}/{key}")


class S3PathLib:
    name = "s3path"
    module = "s3path"

    def __init__(self, endpoint: str):
        import boto3
        from s3path import PureS3Path, register_configuration_parameter

        resource = boto3.resource("s3", endpoint_url=endpoint, region_name="us-east-1", **CREDENTIALS)
        register_configuration_parameter(PureS3Path("/"), resource=resource)

    def path(self, bucket: str, key: str) -> Any:
        from s3path import S3Path

        return S3Path(f"/{bucket}/{key}" if key else f"/{bucket}")


class UniversalPathlib:
    name = "universal-pathlib"
    module = "upath"

    def __init__(self, endpoint: str):
        self.options = {"endpoint_url": endpoint, "key": CREDENTIALS["aws_access_key_id"],
                        "secret": CREDENTIALS["aws_secret_access_key"], "skip_instance_cache": True,
                        "client_kwargs": {"region_name": "us-east-1"}}
        self.roots: dict[str, Any] = {}

    def path(self, bucket: str, key: str) -> Any:
        from upath import UPath

        if bucket not in self.roots:  # one s3fs instance per run: paths derived from it share its cache
            self.roots[bucket] = UPath(f"s3://{bucket}/", **self.options)
        return self.roots[bucket] / key if key else self.roots[bucket]


class S3fs:
    """pandas through s3fs (``storage_options``), the usual way to read S3 data frames."""

    name = "s3fs"
    module = "s3fs"

    def __init__(self, endpoint: str):
        # client_kwargs carries the endpoint: every s3fs version takes it there
        self.storage_options = {"key": CREDENTIALS["aws_access_key_id"], "secret": CREDENTIALS["aws_secret_access_key"],
                                "skip_instance_cache": True,
                                "client_kwargs": {"endpoint_url": endpoint, "region_name": "us-east-1"}}


IMPLEMENTATIONS = [Boto3Minimal, TfmJupyter, CloudPathLib, S3PathLib, UniversalPathlib, S3fs]


def available(impl: type) -> bool:
    return importlib.util.find_spec(impl.module) is not None
