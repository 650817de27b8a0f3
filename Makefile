# The two commands of the README:  `make demo`  and  `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip --disable-pip-version-check -q

.PHONY: demo test test-repeat install browser system emulators bench bench-latency bench-cpu bench-scale

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

## install: the package (editable) with everything the demo and the tests need
install: $(BIN)/python
	$(PIP) install -e '.[test]'
	$(BIN)/python -c "import tfm_jupyter, moto, jupyterlab, nbval, playwright, paramiko, pyftpdlib, distributed"
	test -s tfm_jupyter/static/widget.js

## browser: Debian's headless chromium for the widget tests (never `playwright install`)
browser:
	@command -v chromium >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null)

## system: the Debian packages the tests start: chromium (real-browser tests) and OpenSSH's sshd (SFTP)
system:
	@(command -v chromium >/dev/null && test -x /usr/sbin/sshd) || (apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium openssh-server >/dev/null)

## demo: JupyterLab on notebooks/ against an embedded, seeded local S3 server
demo: install
	$(BIN)/python -m tfm_jupyter.demo lab

## emulators: npm's Azurite (Azure Blob) for the tests, into .test-node (fake-gcs-server comes from PyPI)
emulators:
	@test -x .test-node/node_modules/.bin/azurite-blob || npm install --silent --prefix .test-node azurite@3

## test: install, then every check: lint, JS unit tests, Python tests, notebooks, real-browser tests
test: install system emulators
	$(BIN)/ruff check --no-cache tfm_jupyter tests benchmarks conftest.py
	cd js && npm test
	$(BIN)/pytest

## test-repeat: the test command N times (N=5 unless given), each from a fresh clone of HEAD
N ?= 5
test-repeat:
	bash .ci/repeat $(N)

## bench: the benchmarks of benchmarks/ (writes benchmarks/RESULTS.md). The peers go into their own
## environments (.venv-bench; the AWS CLI, which pins botocore, into .venv-awscli), never into .venv.
bench: browser
	test -x .venv-bench/bin/python || $(PYTHON) -m venv .venv-bench
	.venv-bench/bin/python -m pip --disable-pip-version-check -q install -e '.[bench]'
	test -x .venv-awscli/bin/aws || ($(PYTHON) -m venv .venv-awscli && .venv-awscli/bin/python -m pip -q install awscli)
	.venv-bench/bin/python -m benchmarks.run $(BENCH_ARGS)

## bench-latency: bulk work through a proxy adding 50 ms to every request (writes benchmarks/RESULTS-latency.md);
## npm's s3rver, for the listing, goes into .bench-node
bench-latency: browser
	test -x .venv-bench/bin/python || $(PYTHON) -m venv .venv-bench
	.venv-bench/bin/python -m pip --disable-pip-version-check -q install -e '.[bench]'
	test -x .venv-awscli/bin/aws || ($(PYTHON) -m venv .venv-awscli && .venv-awscli/bin/python -m pip -q install awscli)
	test -x .bench-node/node_modules/.bin/s3rver || npm install --silent --prefix .bench-node s3rver@3
	.venv-bench/bin/python -m benchmarks.latency $(BENCH_ARGS)

## bench-cpu: CPU per file on a real S3 server (SeaweedFS, started by the run) for tfm_jupyter, boto3 on
## 32 threads, s5cmd and obstore (writes benchmarks/RESULTS-cpu.md)
bench-cpu:
	test -x .venv-bench/bin/python || $(PYTHON) -m venv .venv-bench
	.venv-bench/bin/python -m pip --disable-pip-version-check -q install -e '.[bench]'
	PATH="$(CURDIR)/.venv-bench/bin:$$PATH" .venv-bench/bin/python -m benchmarks.cpu $(BENCH_ARGS)

## bench-scale: key-range listing at 50 ms on s3rver, and 100,000 keys copied by threads against a 2-worker
## Dask LocalCluster (writes benchmarks/RESULTS-scale.md)
bench-scale: browser
	test -x .venv-bench/bin/python || $(PYTHON) -m venv .venv-bench
	.venv-bench/bin/python -m pip --disable-pip-version-check -q install -e '.[bench]'
	test -x .bench-node/node_modules/.bin/s3rver || npm install --silent --prefix .bench-node s3rver@3
	.venv-bench/bin/python -m benchmarks.scale $(BENCH_ARGS)
