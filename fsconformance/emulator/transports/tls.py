"""The certificate ``serve --tls`` answers HTTPS with: a local CA and a server certificate.

Clients that insist on HTTPS (the SDK for Java v1 sends SSE-KMS headers over HTTPS only,
so S3A with the Spark connector's SSE-KMS setting needs it) trust the local CA: its PEM file
is the CA bundle for botocore and the AWS CLI (``AWS_CA_BUNDLE``), and ``truststore.p12``
holds it for Java (``-Djavax.net.ssl.trustStore``). Both are made once, on the first start,
and kept, so a trust store set up once stays valid across restarts.

Where they are kept: ``<data-dir>/tls`` when ``serve`` keeps a data directory, else
``$XDG_CONFIG_HOME/fsconformance/tls`` (``~/.config/fsconformance/tls``). The CA's private key
is not kept: it signs the server certificate once and is dropped, so nothing on disk can sign
another name. The server certificate names the loopback addresses and ``localhost`` only,
the addresses ``serve`` binds.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import ssl
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

# The trust store holds one public certificate; its password guards nothing, and Java's
# tools expect one. "changeit" is the JDK's own default for its trust store.
TRUSTSTORE_PASSWORD = "changeit"
VALID_DAYS = 3650
_NAMES = ("localhost",)
_ADDRESSES = ("127.0.0.1", "::1")


@dataclass(frozen=True)
class TlsFiles:
    directory: Path

    @property
    def ca_bundle(self) -> Path:
        """The local CA in PEM: ``AWS_CA_BUNDLE``, ``REQUESTS_CA_BUNDLE``, ``curl --cacert``."""
        return self.directory / "ca.pem"

    @property
    def certificate(self) -> Path:
        return self.directory / "server.pem"

    @property
    def key(self) -> Path:
        return self.directory / "server-key.pem"

    @property
    def truststore(self) -> Path:
        """The local CA as a PKCS#12 trust store for the JVM (password ``changeit``)."""
        return self.directory / "truststore.p12"

    def complete(self) -> bool:
        return all(
            p.is_file() for p in (self.ca_bundle, self.certificate, self.key, self.truststore)
        )


def default_directory(data_dir: str | os.PathLike[str] | None = None) -> Path:
    """``<data-dir>/tls``, or the user's configuration directory when there is no data dir."""
    if data_dir is not None:
        return Path(data_dir) / "tls"
    config = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(config) / "fsconformance" / "tls"


def ensure(directory: Path) -> TlsFiles:
    """The CA and server certificate in ``directory``, made on first use and kept."""
    files = TlsFiles(directory)
    if not files.complete():
        _generate(files)
    return files


def server_context(files: TlsFiles) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(files.certificate, files.key)
    return context


def _generate(files: TlsFiles) -> None:
    files.directory.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=5)  # clock skew
    until = now + dt.timedelta(days=VALID_DAYS)

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name(
        [x509.NameAttribute(NameOID.COMMON_NAME, "fsconformance local CA (serve --tls)")]
    )
    ca_public = ca_key.public_key()
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(until)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_public), critical=False)
        .sign(ca_key, hashes.SHA256())
    )

    key = ec.generate_private_key(ec.SECP256R1())
    alternative = [x509.DNSName(n) for n in _NAMES] + [
        x509.IPAddress(ipaddress.ip_address(a)) for a in _ADDRESSES
    ]
    server = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(until)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName(alternative), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_public), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )

    pem = serialization.Encoding.PEM
    private = key.private_bytes(
        pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    _write(files.key, private, private=True)
    _write(files.certificate, server.public_bytes(pem) + ca.public_bytes(pem))
    # A Java trust store: the JDK loads a PKCS#12 certificate as trusted only with Oracle's
    # trusted-key-usage attribute, which this writer adds (a plain PKCS#12 reads as empty).
    truststore = pkcs12.serialize_java_truststore(
        [pkcs12.PKCS12Certificate(ca, b"fsconformance-local-ca")],
        serialization.BestAvailableEncryption(TRUSTSTORE_PASSWORD.encode()),
    )
    _write(files.truststore, truststore)
    _write(files.ca_bundle, ca.public_bytes(pem))  # last: its presence marks a complete set


def _write(path: Path, data: bytes, private: bool = False) -> None:
    temporary = path.with_name(path.name + ".tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
    with os.fdopen(os.open(temporary, flags, 0o600 if private else 0o644), "wb") as out:
        out.write(data)
    os.replace(temporary, path)
