"""The README's demo command: a seeded local S3 server and JupyterLab on notebooks/, no AWS account."""

import json
import os
import re
import secrets
import signal
import subprocess
import sys
import time
import urllib.request

import boto3
from lab import _free_port


def test_the_demo_serves_the_notebooks_against_a_seeded_local_s3(tmp_path):
    port, token = _free_port(), secrets.token_hex(8)
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}  # no account of any kind
    env.update(JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"), JUPYTERLAB_SETTINGS_DIR=str(tmp_path / "settings"))
    demo = subprocess.Popen(
        [sys.executable, "-m", "tfm_jupyter.demo", "lab", "--no-browser", f"--port={port}",
         "--ServerApp.ip=127.0.0.1", f"--IdentityProvider.token={token}"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        first = demo.stdout.readline()
        endpoint = re.search(r"Local S3 at (http://127\.0\.0\.1:\d+)", first).group(1)
        assert "20,172 objects" in first and "Start with 01_tour.ipynb" in demo.stdout.readline()
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/contents?token={token}") as response:
                    contents = json.loads(response.read())
                break
            except OSError:
                assert time.monotonic() < deadline and demo.poll() is None, "JupyterLab did not start"
                time.sleep(0.3)
        assert {"01_tour.ipynb", "02_analysis.ipynb", "03_cache.ipynb", "04_magics.ipynb"} <= {
            item["name"] for item in contents["content"]}
        s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="demo-access-key",
                          aws_secret_access_key="demo-secret-key")
        assert {b["Name"] for b in s3.list_buckets()["Buckets"]} == {"demo", "scratch", "team"}
        assert s3.list_objects_v2(Bucket="demo", Prefix="logs/big/", MaxKeys=5)["KeyCount"] == 5
        first_csv = s3.list_objects_v2(Bucket="demo", Prefix="sales/2024/north/", MaxKeys=1)["Contents"][0]["Key"]
        assert s3.head_object(Bucket="demo", Key=first_csv)["ContentType"] == "text/csv"  # typed like uploads
    finally:
        os.killpg(demo.pid, signal.SIGINT)
        try:
            demo.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(demo.pid, signal.SIGKILL)
