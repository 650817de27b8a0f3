"""fsspec's own conformance suite (``fsspec.tests.abstract``: copy, get, put, open, pipe) against our
filesystem, as s3fs runs it in its ``tests/derived/``: on S3 (moto's server) and on SFTP (sshd)."""

import fsspec.tests.abstract as abstract
import pytest

from tfm_jupyter import filesystem


class S3Fixtures(abstract.AbstractFixtures):
    @pytest.fixture
    def fs(self, s3):
        return filesystem("s3")

    @pytest.fixture
    def fs_join(self):
        return lambda *parts: "/".join(parts)

    @pytest.fixture
    def fs_path(self, bucket):
        return bucket  # a fresh bucket for each test

    @pytest.fixture
    def supports_empty_directories(self):
        return False  # an object store has no empty folders (makedirs makes no marker, as s3fs)


class TestCopy(abstract.AbstractCopyTests, S3Fixtures):
    pass


class TestGet(abstract.AbstractGetTests, S3Fixtures):
    pass


class TestPut(abstract.AbstractPutTests, S3Fixtures):
    pass


class TestPipe(abstract.AbstractPipeTests, S3Fixtures):
    pass


class TestOpen(abstract.AbstractOpenTests, S3Fixtures):
    pass


class SFTPFixtures(S3Fixtures):
    @pytest.fixture
    def fs(self, sftp_root):
        return filesystem("sftp")

    @pytest.fixture
    def fs_path(self, sftp_root):
        return f"{sftp_root.authority}/{sftp_root.key}"

    @pytest.fixture
    def supports_empty_directories(self):
        return True


class TestSFTPCopy(abstract.AbstractCopyTests, SFTPFixtures):
    pass


class TestSFTPGet(abstract.AbstractGetTests, SFTPFixtures):
    pass


class TestSFTPPut(abstract.AbstractPutTests, SFTPFixtures):
    pass


class TestSFTPPipe(abstract.AbstractPipeTests, SFTPFixtures):
    pass


class TestSFTPOpen(abstract.AbstractOpenTests, SFTPFixtures):
    pass
