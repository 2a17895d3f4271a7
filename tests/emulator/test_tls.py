"""``serve --tls``: HTTPS on the same port, with a local CA made once and kept.

A client trusts the printed CA bundle and nothing else changes; a client that does not trust
it is refused; the CA's files are made on the first start and reused after, so a trust store
set up once (a JVM's) stays valid.
"""

from __future__ import annotations

import signal
import socket
import ssl
import stat
from pathlib import Path

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import SSLError
from cryptography import x509
from cryptography.hazmat.primitives.serialization import pkcs12

from fsconformance.emulator.transports import tls
from fsconformance.emulator.transports.wsgi import EmulatorServer
from tests.helpers import serve

FAKE = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


def s3(url: str, verify: str | bool) -> object:
    config = Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1})
    return boto3.client(
        "s3", region_name="us-east-1", endpoint_url=url, config=config, verify=verify, **FAKE
    )


def test_files_are_made_once_and_kept(tmp_path: Path) -> None:
    first = tls.ensure(tmp_path / "tls")
    made = {p: p.read_bytes() for p in (first.ca_bundle, first.certificate, first.truststore)}
    again = tls.ensure(tmp_path / "tls")
    assert {p: p.read_bytes() for p in made} == made
    assert again.key.read_bytes() == first.key.read_bytes()
    assert stat.S_IMODE(first.key.stat().st_mode) == 0o600  # the server key is the user's


def test_the_certificate_names_only_loopback_and_chains_to_the_local_ca(tmp_path: Path) -> None:
    files = tls.ensure(tmp_path)
    ca = x509.load_pem_x509_certificate(files.ca_bundle.read_bytes())
    server = x509.load_pem_x509_certificates(files.certificate.read_bytes())[0]
    names = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert sorted(str(n.value) for n in names) == ["127.0.0.1", "::1", "localhost"]
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    server.verify_directly_issued_by(ca)
    # The JVM's trust store holds the same CA (Java reads only marked entries as trusted).
    store = pkcs12.load_pkcs12(files.truststore.read_bytes(), tls.TRUSTSTORE_PASSWORD.encode())
    assert [c.certificate for c in store.additional_certs] == [ca]


def test_default_directory_is_the_data_dir_or_the_users_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert tls.default_directory(tmp_path / "data") == tmp_path / "data" / "tls"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    assert tls.default_directory() == tmp_path / "config" / "fsconformance" / "tls"


def test_https_on_the_served_port_for_clients_that_trust_the_ca(tmp_path: Path) -> None:
    files = tls.ensure(tmp_path)
    server = EmulatorServer("127.0.0.1", 0, ssl_context=tls.server_context(files))
    url = server.start()
    try:
        assert url.startswith("https://127.0.0.1:")
        trusting = s3(url, str(files.ca_bundle))
        trusting.create_bucket(Bucket="tls-bucket")
        # SSE-KMS headers, which the SDK for Java v1 sends over HTTPS only, are kept.
        trusting.put_object(
            Bucket="tls-bucket",
            Key="k",
            Body=b"x",
            ServerSideEncryption="aws:kms",
            SSEKMSKeyId="arn:aws:kms:us-east-1:123456789012:key/local",
        )
        head = trusting.head_object(Bucket="tls-bucket", Key="k")
        assert head["ServerSideEncryption"] == "aws:kms"
        with pytest.raises(SSLError):
            s3(url, True).list_buckets()  # the system's CAs do not vouch for it
        context = ssl.create_default_context(cafile=str(files.ca_bundle))
        address = ("127.0.0.1", int(url.rsplit(":", 1)[1]))
        with (
            socket.create_connection(address) as raw,
            context.wrap_socket(raw, server_hostname="localhost") as secure,
        ):
            assert secure.version() in ("TLSv1.2", "TLSv1.3")
    finally:
        server.shutdown()


@pytest.mark.slow
def test_serve_tls_prints_the_ca_bundle_and_stops_cleanly(tmp_path: Path) -> None:
    process = serve("--tls", env={"XDG_CONFIG_HOME": str(tmp_path)})
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline().strip() for _ in range(3)]
        bundle = tmp_path / "fsconformance" / "tls" / "ca.pem"
        assert lines[0] == f"fsconformance serve: CA bundle {bundle}"
        assert lines[1].startswith("fsconformance serve: Java trust store ")
        assert lines[2].startswith("fsconformance serve: listening on https://127.0.0.1:")
        s3(lines[2].split()[-1], str(bundle)).list_buckets()
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, err
    assert "Traceback" not in err
