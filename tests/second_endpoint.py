"""A second, independent S3 endpoint for the tests: moto's server in its own process (so its buckets
are not the first server's), behind a middleware that refuses every access key id but its own, as
a real endpoint with other credentials would.

    python tests/second_endpoint.py KEY_ID      # prints "PORT <n>", serves until stdin closes

Control routes (not counted, not S3): ``/_tfm/counts``, ``/_tfm/create?bucket=``,
``/_tfm/keys?bucket=&prefix=``, ``/_tfm/body?bucket=&key=``, ``/_tfm/put?bucket=&key=`` (POST),
``/_tfm/uploads?bucket=`` (multipart uploads in progress).
"""

from __future__ import annotations

import re
import sys
import threading
from typing import Any
from urllib.parse import parse_qs

from tfm_jupyter.server import LocalS3Server

REFUSED = (b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>InvalidAccessKeyId</Code><Message>The AWS Access '
           b"Key Id you provided does not exist in our records.</Message></Error>")
CREDENTIAL = re.compile(r"Credential=([^/]+)/")


def credential_check(key_id: str) -> Any:
    """Refuse requests signed with any other access key id (presigned URLs included)."""

    def wrap(app: Any) -> Any:
        def checked(environ: dict[str, Any], start_response: Any) -> Any:
            found = CREDENTIAL.search(environ.get("HTTP_AUTHORIZATION", "") + "Credential="
                                      + parse_qs(environ.get("QUERY_STRING", "")).get("X-Amz-Credential", [""])[0])
            if found is None or found.group(1) != key_id:
                start_response("403 Forbidden", [("Content-Type", "application/xml"),
                                                 ("Content-Length", str(len(REFUSED)))])
                return [REFUSED]
            return app(environ, start_response)

        return checked

    return wrap


def routes(server: LocalS3Server) -> dict[str, Any]:
    def create(query: dict[str, str], _: bytes) -> Any:
        server.create_bucket(query["bucket"])
        return {}

    def put(query: dict[str, str], body: bytes) -> Any:
        server.put_objects(query["bucket"], {query["key"]: body})
        return {}

    bucket = server.backend.get_bucket
    return {
        "counts": lambda query, body: dict(server.snapshot()),
        "create": create,
        "put": put,
        "keys": lambda query, body: sorted(k for k in bucket(query["bucket"]).keys
                                           if k.startswith(query.get("prefix", ""))),
        "body": lambda query, body: server.backend.get_object(query["bucket"], query["key"]).value,
        "uploads": lambda query, body: [upload.key_name for upload in bucket(query["bucket"]).multiparts.values()],
    }


def main() -> int:
    server = LocalS3Server()
    server.outer.append(credential_check(sys.argv[1]))
    server.add_control(routes(server))  # outermost: control routes are unsigned, answered before the check
    server.start()
    print(f"PORT {server.port}", flush=True)
    stop = threading.Event()
    threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
    stop.wait()  # the test session closes our stdin when it ends
    server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
