"""A C2PA test certificate chain, made here with `cryptography` (independently of the product's development one):
a test root CA and an end-entity signer with digitalSignature and the emailProtection extended key usage, as C2PA
asks of a signer (this c2pa build refuses documentSigning, RFC 9336, with "certificate missing required EKU")."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

TEST_SIGNER = "C2PA test signer"


@dataclass(frozen=True)
class TestChain:
    cert: Path  # the signer's certificate, then the root
    key: Path
    root_pem: str
    root: Path  # the root alone, and its key: a CA, which C2PA does not take as a signer
    root_key: Path


def _usage(*, ca: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=not ca,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=ca,
        crl_sign=ca,
        encipher_only=False,
        decipher_only=False,
    )


def _key_pem(key) -> bytes:
    encoding, private = serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8
    return key.private_bytes(encoding, private, serialization.NoEncryption())


def make_test_chain(directory: Path) -> TestChain:
    now = datetime.datetime.now(datetime.UTC)
    root_key, leaf_key = ec.generate_private_key(ec.SECP384R1()), ec.generate_private_key(ec.SECP256R1())
    root_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "C2PA test root")])
    leaf_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, TEST_SIGNER)])

    def base(subject, key):
        return (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(root_name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        )

    root = (
        base(root_name, root_key)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_usage(ca=True), critical=True)
        .sign(root_key, hashes.SHA384())
    )
    leaf = (
        base(leaf_name, leaf_key)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_usage(ca=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()), critical=False)
        .sign(root_key, hashes.SHA384())
    )
    root_pem = root.public_bytes(serialization.Encoding.PEM)
    cert, key = directory / "c2pa-chain.pem", directory / "c2pa-key.pem"
    cert.write_bytes(leaf.public_bytes(serialization.Encoding.PEM) + root_pem)
    key.write_bytes(
        leaf_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    root_cert, root_key_path = directory / "c2pa-root.pem", directory / "c2pa-root-key.pem"
    root_cert.write_bytes(root_pem)
    root_key_path.write_bytes(_key_pem(root_key))
    return TestChain(cert, key, root_pem.decode(), root_cert, root_key_path)
