"""The benchmark's S3 server, in its own process (as S3 would be), with a small control API.

``/_tfm/counts`` (requests so far, by operation), ``/_tfm/seed?workload=N&bucket=B``,
``/_tfm/remove?bucket=B&prefix=P`` and ``/_tfm/count?bucket=B&prefix=P`` are answered here and are
not counted; everything else goes to moto and is counted.
"""

from __future__ import annotations

import json
import sys
from typing import Any
from urllib.parse import parse_qs

from tfm_jupyter.server import LocalS3Server

from .workloads import WORKLOADS


def _control(server: LocalS3Server) -> Any:
    def wrap(app: Any) -> Any:
        def handle(environ: dict[str, Any], start_response: Any) -> Any:
            path = environ.get("PATH_INFO", "")
            if not path.startswith("/_tfm/"):
                return app(environ, start_response)
            query = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
            answer: Any = {}
            if path == "/_tfm/counts":
                answer = dict(server.snapshot())
            elif path == "/_tfm/seed":
                server.create_bucket(query["bucket"])
                next(w for w in WORKLOADS if w.number == query["workload"]).seed(server, query["bucket"])
            elif path in ("/_tfm/remove", "/_tfm/count"):
                keys = [k for k in server.backend.get_bucket(query["bucket"]).keys if k.startswith(query["prefix"])]
                if path == "/_tfm/remove":
                    for key in keys:
                        server.backend.delete_object(query["bucket"], key)
                answer = {"count": len(keys)}
            body = json.dumps(answer).encode()
            start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
            return [body]

        return handle

    return wrap


def main() -> int:
    server = LocalS3Server()
    server.outer.append(_control(server))
    server.start()
    print(f"PORT {server.port}", flush=True)
    try:
        server._thread.join()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
