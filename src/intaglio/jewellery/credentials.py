"""Content Credentials on every jewellery image we make: the IPTC digital source type in XMP and a signed C2PA
manifest (EU AI Act art. 50(2): outputs of a system that generates images are marked, machine-readably, as
artificially generated). The one place that signs; the job stores what `mark_generated` returns.

What the marks say, and nothing more: how the image was made (the IPTC source type, see imaging.provenance), by which
generator (the model's name) and by this software. They hold no personal data: no account, no e-mail, no title, no
reference file name, and the references are not attached as C2PA ingredients (their thumbnails and names are the
customer's), so a downloaded image says *that* it is generated, never *for whom* or *from what*.

The certificate comes from settings: INTAGLIO_C2PA_CERT (a PEM chain, the signer first) and INTAGLIO_C2PA_KEY (its
private key, PEM). C2PA takes only an end-entity signer issued by a CA (not self-signed) with the digitalSignature key
usage and the emailProtection extended usage (this c2pa build refuses documentSigning). Without them the images are
signed with a development certificate made once in the data dir, named "not a trusted signer", and
`intaglio check --deploy` warns. Why sign with that rather than refuse or skip: the obligation is the machine-readable
mark, which the source type and the manifest carry either way (a verifier reads them and reports the signer as
unknown); refusing would make a fresh machine generate nothing, and C2PA has no unsigned manifest. A purchased
certificate adds who vouches for it. A configured certificate that cannot sign fails the generation (its credits
return) rather than deliver an unmarked image.
"""

from __future__ import annotations

import datetime
import io
import os
import tempfile
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import c2pa
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from django.conf import settings
from django.core import checks
from PIL import Image

from intaglio.imaging import COMPOSITE_SYNTHETIC, TRAINED_ALGORITHMIC_MEDIA, with_source_type

__all__ = [
    "SIGNED_MIMES",
    "Credentials",
    "CredentialsUnavailable",
    "development_certificate",
    "mark_generated",
    "signing_check",
    "signing_credentials",
    "source_type",
]

#: The formats we mark (everything a generator gives us; C2PA embeds in each).
SIGNED_MIMES = ("image/jpeg", "image/png", "image/webp")
DEVELOPMENT_SIGNER = "Intaglio development signer (not a trusted signer)"


def _software_version() -> str:
    try:
        return version("intaglio")
    except PackageNotFoundError:  # pragma: no cover - run from a checkout without install
        return "dev"


@dataclass(frozen=True)
class Credentials:
    chain_pem: bytes
    key_pem: bytes
    development: bool

    @property
    def algorithm(self) -> c2pa.C2paSigningAlg:
        key = serialization.load_pem_private_key(self.key_pem, password=None)
        if isinstance(key, ec.EllipticCurvePrivateKey):
            return {256: c2pa.C2paSigningAlg.ES256, 384: c2pa.C2paSigningAlg.ES384}.get(
                key.curve.key_size, c2pa.C2paSigningAlg.ES512
            )
        if isinstance(key, rsa.RSAPrivateKey):
            return c2pa.C2paSigningAlg.PS256
        if isinstance(key, ed25519.Ed25519PrivateKey):
            return c2pa.C2paSigningAlg.ED25519
        raise ValueError("INTAGLIO_C2PA_KEY is not an EC, RSA or Ed25519 private key")


def signing_credentials() -> Credentials:
    """The configured certificate chain and key, or the development ones (made on first use)."""
    if settings.C2PA_CERT or settings.C2PA_KEY:
        if not (settings.C2PA_CERT and settings.C2PA_KEY):
            raise ValueError("set both INTAGLIO_C2PA_CERT and INTAGLIO_C2PA_KEY, or neither")
        return Credentials(Path(settings.C2PA_CERT).read_bytes(), Path(settings.C2PA_KEY).read_bytes(), False)
    bundle = development_certificate(Path(settings.DATA_DIR) / "c2pa-development.pem")
    pem = bundle.read_bytes()
    key_start = pem.index(b"-----BEGIN PRIVATE KEY-----")
    return Credentials(pem[:key_start], pem[key_start:], True)


class CredentialsUnavailable(Exception):
    """The image cannot be signed: the certificate or key is missing, unreadable or refused by C2PA."""


def signing_check(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """`intaglio check --deploy`: a warning while images would be signed with the development certificate, an error
    when the configured certificate cannot sign (tried on a one-pixel image, so C2PA itself judges the chain)."""
    if not (settings.C2PA_CERT or settings.C2PA_KEY):
        return [
            checks.Warning(
                "Generated images are signed with a development certificate (Content Credentials show an unknown "
                "signer).",
                hint="Set INTAGLIO_C2PA_CERT and INTAGLIO_C2PA_KEY to a C2PA signing certificate chain and its key.",
                id="intaglio.W101",
            )
        ]
    pixel = io.BytesIO()
    Image.new("RGB", (1, 1)).save(pixel, "PNG")
    try:
        mark_generated(pixel.getvalue(), "image/png", provider="local", generator="check")
    except CredentialsUnavailable as unreadable:
        return [
            checks.Error(
                f"INTAGLIO_C2PA_CERT / INTAGLIO_C2PA_KEY cannot be used: {unreadable}",
                hint="Set both, to readable PEM files: the signer's certificate chain and its private key.",
                id="intaglio.E101",
            )
        ]
    return []


def source_type(provider: str) -> str:
    """The IPTC digital source type of images from a generation provider: the local packshot composes the customer's
    photograph with drawn elements (compositeSynthetic); every other provider is a remote generative model
    (trainedAlgorithmicMedia). See imaging.provenance for why these terms."""
    return COMPOSITE_SYNTHETIC if provider == "local" else TRAINED_ALGORITHMIC_MEDIA


def mark_generated(data: bytes, mime: str, *, provider: str, generator: str) -> bytes:
    """The image with its Content Credentials: the IPTC source type in XMP, then a C2PA manifest signed over it.

    `provider` is the generation provider's name ("local", "wavespeed"), `generator` the model's, e.g.
    "bytedance/seedream-v4/edit"."""
    if mime not in SIGNED_MIMES:
        raise ValueError(f"cannot mark a {mime} image")
    source = source_type(provider)
    remote = source == TRAINED_ALGORITHMIC_MEDIA
    marked = with_source_type(data, mime, source)
    manifest = {
        "claim_generator_info": [{"name": "Intaglio", "version": _software_version()}],
        "title": "Jewellery image",
        "format": mime,
        "assertions": [
            {
                "label": "c2pa.actions",
                "data": {
                    "actions": [
                        {
                            "action": "c2pa.created",
                            "digitalSourceType": source,
                            "softwareAgent": {"name": generator},
                            "description": (
                                "Generated by an AI image model from reference images of the piece."
                                if remote
                                else "The piece cut out of a reference photograph and composed on a drawn backdrop."
                            ),
                        }
                    ]
                },
            }
        ],
    }
    out = io.BytesIO()
    try:
        credentials = signing_credentials()
        info = c2pa.C2paSignerInfo(
            credentials.algorithm, credentials.chain_pem, credentials.key_pem, settings.C2PA_TSA_URL or None
        )
        # No claim thumbnail: the image itself is there to see, and a thumbnail added a few hundred KB and a decode.
        context = c2pa.Context(c2pa.Settings.from_dict({"builder": {"thumbnail": {"enabled": False}}}))
        with context, c2pa.Signer.from_info(info) as signer, c2pa.Builder(manifest, context) as builder:
            builder.sign(signer, mime, io.BytesIO(marked), out)
    except (OSError, ValueError, c2pa.C2paError) as failed:
        raise CredentialsUnavailable(str(failed)) from failed
    return out.getvalue()


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Intaglio (development)"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _usage(*, sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=sign,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=not sign,
        crl_sign=not sign,
        encipher_only=False,
        decipher_only=False,
    )


def development_certificate(path: Path) -> Path:
    """A PEM bundle (signer certificate, its local root, then the signer's key) at `path`, made once.

    C2PA refuses a self-signed signer, so it is a two-link chain: a local root (a CA) and an end-entity signer with
    digitalSignature and emailProtection. Both say "development" and "not a trusted signer" in their names. Written
    to a temporary file and moved into place, so concurrent first uses never mix one chain with another's key."""
    if path.exists():
        return path
    now = datetime.datetime.now(datetime.UTC)
    root_key, signer_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    root_name = _name("Intaglio development root (not trusted)")

    def certificate(subject, public_key, *, ca: bool):
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(root_name)
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=0 if ca else None), critical=True)
            .add_extension(_usage(sign=not ca), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        )
        if not ca:
            builder = builder.add_extension(
                x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False
            ).add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()), critical=False)
        return builder.sign(root_key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)

    root = certificate(root_name, root_key.public_key(), ca=True)
    signer = certificate(_name(DEVELOPMENT_SIGNER), signer_key.public_key(), ca=False)
    key = signer_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".c2pa-", suffix=".pem")
    with os.fdopen(fd, "wb") as handle:  # mkstemp makes it 0600: the key is readable by this user only
        handle.write(signer + root + key)
    os.replace(temporary, path)
    return path
