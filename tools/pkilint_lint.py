#!/usr/bin/env python3
"""Lints one Sigil certificate with pkilint (https://github.com/digicert/pkilint),
an RFC 5280 linter nobody here wrote: the validators of pkilint's
`lint_pkix_cert`, and with --issuer those of
`lint_pkix_signer_signee_cert_chain` (names, key identifiers, the signature).

Why not the stock commands: pkilint decodes DER with `pyasn1_fasder`, which
refuses OID arcs wider than 32 bits, and Sigil's scope extension OID is
2.25.139526725496265795380794671847951376368 (a UUID arc, 127 bits; see
docs/certificates.md). So stock `lint_pkix_cert` cannot load a Sigil leaf.
--pyasn1-decoder replaces pkilint's decoder with pyasn1's own DER decoder,
which handles arcs of any size, and keeps it as strict as the one it replaces:
trailing octets are an error, and every decoded value must re-encode (pyasn1
DER encoder) to exactly the octets it was decoded from, so BER that is not DER
is refused. Without the flag pkilint runs unchanged.

Usage: pkilint_lint.py [--pyasn1-decoder] [--issuer ISSUER.pem] CERT.pem

Prints every finding (all severities) as `SEVERITY code @ path: message`,
then a summary line. Exit status: 0 when no finding is ERROR or FATAL
(WARNING, NOTICE and INFO are printed but allowed), 1 when one is, 2 when a
certificate cannot be loaded (pkilint's message is printed, prefixed
`Failed to load`).

Tested with pkilint 0.13.3 (the version .ci/run installs).
"""
import argparse
import sys

from pyasn1.codec.der import decoder as der_decoder
from pyasn1.codec.der import encoder as der_encoder
from pyasn1.error import PyAsn1Error

import pkilint.document
from pkilint import loader, validation
from pkilint.bin import lint_pkix_signer_signee_cert_chain as chain_linter
from pkilint.pkix import certificate, extension, name

BLOCKING = (
    validation.ValidationFindingSeverity.FATAL,
    validation.ValidationFindingSeverity.ERROR,
)


def pyasn1_decode_der(substrate, asn1Spec):
    """A drop-in for `pyasn1_fasder.decode_der`: same arguments, same
    `(value, b"")` result, PyAsn1Error on anything that is not exactly one
    DER encoding of `asn1Spec`."""
    substrate = bytes(substrate)
    value, rest = der_decoder.decode(substrate, asn1Spec=asn1Spec)
    if rest:
        raise PyAsn1Error(f"{len(rest)} trailing octets after the DER value")
    if der_encoder.encode(value) != substrate:
        raise PyAsn1Error("not DER: the value does not re-encode to the same octets")
    return value, b""


def certificate_validator():
    """The validators of pkilint's `lint_pkix_cert lint` (pkilint/bin/lint_pkix_cert.py)."""
    return certificate.create_pkix_certificate_validator_container(
        certificate.create_decoding_validators(
            name.ATTRIBUTE_TYPE_MAPPINGS, extension.EXTENSION_MAPPINGS
        ),
        [
            certificate.create_issuer_validator_container([]),
            certificate.create_validity_validator_container(),
            certificate.create_subject_validator_container([]),
            certificate.create_extensions_validator_container([]),
            certificate.create_spki_validator_container([]),
        ],
    )


def load(path, doc_name=None, parent=None):
    with open(path, "rb") as f:
        return loader.RFC5280CertificateDocumentLoader().load_file(
            f, doc_name, path, parent
        )


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("cert", help="the certificate to lint (PEM or DER)")
    parser.add_argument(
        "--issuer",
        help="also lint the pair issuer -> cert (lint_pkix_signer_signee_cert_chain)",
    )
    parser.add_argument(
        "--pyasn1-decoder",
        action="store_true",
        help="decode with pyasn1's DER decoder instead of pyasn1_fasder (OID arcs over 32 bits)",
    )
    args = parser.parse_args()

    if args.pyasn1_decoder:
        pkilint.document.decode_der = pyasn1_decode_der

    try:
        cert = load(args.cert, args.cert)
    except ValueError as e:
        print(f"Failed to load certificate {args.cert}: {e}")
        return 2
    results = list(certificate_validator().validate(cert.root))

    if args.issuer:
        docs = {}
        try:
            docs["issuer"] = load(args.issuer, "issuer", docs)
            docs["subject"] = load(args.cert, "subject", docs)
        except ValueError as e:
            print(f"Failed to load certificate pair {args.issuer} -> {args.cert}: {e}")
            return 2
        decoders = chain_linter.create_decoder_validation_container()
        results += decoders.validate(docs["issuer"].root)
        results += decoders.validate(docs["subject"].root)
        results += chain_linter.create_issuer_validation_container().validate(
            docs["issuer"].root
        )
        results += chain_linter.create_subject_validation_container().validate(
            docs["subject"].root
        )

    blocking = 0
    total = 0
    for result in results:
        for description in result.finding_descriptions:
            severity = description.finding.severity
            total += 1
            blocking += severity in BLOCKING
            message = f": {description.message}" if description.message else ""
            print(
                f"{severity.name} {description.finding.code} @ {result.node.path}"
                f" ({result.validator}){message}"
            )
    verdict = "FAIL" if blocking else "OK"
    print(f"{verdict}: {args.cert}: {total} findings, {blocking} ERROR or FATAL")
    return 1 if blocking else 0


if __name__ == "__main__":
    sys.exit(main())
