"""Object versions of a versioned bucket: list them, read one, restore one."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

from . import client
from .entries import timestamp

__all__ = ["ObjectVersion", "list_versions"]


@dataclass(frozen=True)
class ObjectVersion:
    """One stored version of an object (or a delete marker)."""

    path: Any
    version_id: str
    size: int
    mtime: float | None
    etag: str | None
    is_latest: bool
    is_delete_marker: bool = False

    def read_bytes(self) -> bytes:
        """This version's content (one GetObject with VersionId)."""
        if self.is_delete_marker:
            raise FileNotFoundError(2, "This version is a delete marker: it has no content", str(self.path))
        _, body = client.client_for(self.path.bucket).get_stream(Bucket=self.path.bucket, Key=self.path.key,
                                                                 VersionId=self.version_id)
        try:
            return body.read()
        finally:
            body.close()

    def read_text(self, encoding: str = "utf-8", errors: str | None = None) -> str:
        with io.TextIOWrapper(io.BytesIO(self.read_bytes()), encoding, errors) as text:
            return text.read()

    def restore(self) -> None:
        """Make this version the current one again (server-side CopyObject of the version)."""
        from .stores import get_store

        bucket, key = self.path.bucket, self.path.key
        with get_store().recording_write(bucket, key):
            source = {"Bucket": bucket, "Key": key, "VersionId": self.version_id}
            client.client_for(bucket).call("copy_object", Bucket=bucket, Key=key, CopySource=source)

    def __repr__(self) -> str:
        kind = "delete marker" if self.is_delete_marker else f"{self.size} bytes"
        latest = ", latest" if self.is_latest else ""
        return f"<ObjectVersion {self.version_id} of {self.path} ({kind}{latest})>"


def list_versions(path: Any) -> list[ObjectVersion]:
    """Every version of ``path``'s key, newest first (ListObjectVersions, 1000 per request)."""
    key = path.key
    versions: list[ObjectVersion] = []
    for page in client.client_for(path.bucket).paginate("list_object_versions", Bucket=path.bucket, Prefix=key):
        for item in page.get("Versions", ()):
            if item["Key"] == key:
                versions.append(ObjectVersion(path, item["VersionId"], item.get("Size", 0),
                                              timestamp(item.get("LastModified")), item.get("ETag"),
                                              item.get("IsLatest", False)))
        for item in page.get("DeleteMarkers", ()):
            if item["Key"] == key:
                versions.append(ObjectVersion(path, item["VersionId"], 0, timestamp(item.get("LastModified")),
                                              None, item.get("IsLatest", False), is_delete_marker=True))
    versions.sort(key=lambda v: (v.mtime or 0, v.is_latest), reverse=True)
    return versions
