"""The README's "Several PCs" steps against a server set up as an office's would be: reached
over TCP, TLS only (``hostssl``), a role signing in with a password that lives in a
``.pgpass`` file named by ``PGPASSFILE``, and ``sslmode=verify-full`` checking the server's
certificate (made here with openssl) against the office's CA."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.postgres import SERVER_USER, PostgresServer

ROLE_PASSWORD = "Role-pw-on-the-server-7"
SUPERVISOR_PASSWORD = "first-supervisor-pw"

if TYPE_CHECKING:
    import psycopg

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


def _openssl(*args: str | Path, cwd: Path) -> None:
    subprocess.run(["openssl", *map(str, args)], cwd=cwd, check=True, capture_output=True)


def office_certificates(folder: Path) -> None:
    """ca.crt (the office's CA) and server.crt/server.key for localhost, signed by it."""
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
             "/CN=Office CA", "-keyout", "ca.key", "-out", "ca.crt", cwd=folder)
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost",
             "-keyout", "server.key", "-out", "server.csr", cwd=folder)
    (folder / "san.cnf").write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    _openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
             "-CAcreateserial", "-days", "2", "-extfile", "san.cnf", "-out", "server.crt",
             cwd=folder)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class OfficeServer(PostgresServer):
    """The test server, but listening on 127.0.0.1 with TLS and password sign-in only."""

    certificates: Path

    def _init_cluster(self) -> None:
        super()._init_cluster()
        for name in ("server.crt", "server.key"):
            target = self.data_dir / name
            shutil.copyfile(self.certificates / name, target)
            target.chmod(0o600)
            if self.run_as:
                shutil.chown(target, SERVER_USER, SERVER_USER)
        (self.data_dir / "pg_hba.conf").write_text(
            "local all all trust\n"  # the test's own admin connection, through the socket
            "hostssl all all 127.0.0.1/32 scram-sha-256\n")

    def connect(self, database: str) -> psycopg.Connection[tuple[object, ...]]:
        import psycopg

        return psycopg.connect(dbname=database, user=SERVER_USER, host=str(self.folder),
                               port=self.settings["port"], autocommit=True)


@pytest.fixture
def office(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """The URL of an empty database on an office-like server, and the folder of its CA."""
    if shutil.which("openssl") is None:
        pytest.skip("no openssl to make the server's certificate")
    certificates = tmp_path / "certs"
    certificates.mkdir()
    office_certificates(certificates)
    port = free_port()
    OfficeServer.certificates = certificates
    server = OfficeServer.start({"listen_addresses": "'127.0.0.1'", "port": str(port),
                                 "ssl": "on", "fsync": "off"})
    try:
        assert server.admin is not None
        server.admin.execute(f"CREATE ROLE advice LOGIN PASSWORD '{ROLE_PASSWORD}'")
        server.admin.execute("CREATE DATABASE advice_desk OWNER advice")
        yield (f"postgresql+psycopg://advice@localhost:{port}/advice_desk?sslmode=verify-full"
               f"&sslrootcert={certificates / 'ca.crt'}"), certificates
    finally:
        server.stop()


def advice_desk(*args: str, env: dict[str, str],
                stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "advice_desk", *args], input=stdin,
                          capture_output=True, text=True, env=env, timeout=120, check=False)


def test_the_readme_steps_on_a_tls_server_with_a_pgpass_file(
        office: tuple[str, Path], tmp_path: Path) -> None:
    url, certificates = office
    port = url.split(":")[2].split("/")[0]
    pgpass = tmp_path / "pgpass"
    pgpass.write_text(f"localhost:{port}:advice_desk:advice:{ROLE_PASSWORD}\n")
    pgpass.chmod(0o600)
    env = {**os.environ, "ADVICE_DESK_CONFIG_DIR": str(tmp_path / "config"),
           "ADVICE_DESK_DATA_DIR": str(tmp_path / "data"), "PGPASSFILE": str(pgpass)}
    env.pop("ADVICE_DESK_DATABASE_URL", None)

    done = advice_desk("--database-url", url, "setup", "--supervisor", "sam", "--full-name",
                       "Sam Supervisor", env=env, stdin=SUPERVISOR_PASSWORD + "\n")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"Set up the store {url}: schema ")
    env.pop("ADVICE_DESK_DATA_DIR")
    connected = advice_desk("connect", url, env=env)
    assert connected.returncode == 0, connected.stderr
    report = advice_desk("report", "--date", "2026-11-23", "--format", "json", env=env)
    assert report.returncode == 0 and '"total_calls": 0' in report.stdout
    for output in (done, connected, report):
        assert ROLE_PASSWORD not in output.stdout + output.stderr
        assert SUPERVISOR_PASSWORD not in output.stdout + output.stderr

    # Without TLS the server lets nobody in; with another CA the server is not trusted; with
    # no .pgpass there is no password: each said in one line.
    plain = url.split("?")[0] + "?sslmode=disable"
    refused = advice_desk("--database-url", plain, "connect", plain, env=env)
    assert refused.returncode == 1
    assert "the server does not let this PC in: its pg_hba.conf has no line" in refused.stderr
    stranger = certificates / "stranger"
    stranger.mkdir()
    office_certificates(stranger)
    untrusted = url.replace(str(certificates / "ca.crt"), str(stranger / "ca.crt"))
    failed = advice_desk("connect", untrusted, env=env)
    assert failed.returncode == 1
    assert "the TLS connection failed (certificate verify failed)" in failed.stderr
    no_pgpass = advice_desk("connect", url, env={**env, "PGPASSFILE": str(tmp_path / "none")})
    assert "the server refused to sign this user in" in no_pgpass.stderr
    for output in (refused, failed, no_pgpass):
        assert output.stderr.count("\n") == 1 and ROLE_PASSWORD not in output.stderr
