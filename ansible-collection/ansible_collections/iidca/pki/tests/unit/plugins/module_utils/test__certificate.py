# Copyright 2026 The iidca authors
# SPDX-License-Identifier: Apache-2.0

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import datetime
import hashlib

import pytest

from ansible_collections.iidca.pki.plugins.module_utils._certificate import (
    CertificateError,
    common_name,
    parse_openssl_fields,
    parse_openssl_time,
    parse_openssl_text,
    pem_blocks,
    pem_fingerprint,
)

FIELDS = '''serial=42A27A0A2DCB352B4C9CCA8193E583CA
subject=CN=foo.local
issuer=CN=My CA Intermediate CA,O=My CA
notBefore=Dec  4 17:50:47 2026 GMT
notAfter=Dec  5 17:51:47 2026 GMT
'''

EC_TEXT = '''        Subject Public Key Info:
            Public Key Algorithm: id-ecPublicKey
                Public-Key: (256 bit)
                ASN1 OID: prime256v1
                NIST CURVE: P-256
        X509v3 extensions:
            X509v3 Subject Alternative Name:
                DNS:foo.local, DNS:ip-10-0-0-1.ec2.internal, IP Address:10.0.0.1
'''


def test_parse_openssl_fields():
    facts = parse_openssl_fields(FIELDS)
    assert facts['serial'] == str(0x42A27A0A2DCB352B4C9CCA8193E583CA)
    assert facts['serial_hex'] == '42a27a0a2dcb352b4c9cca8193e583ca'
    assert facts['subject'] == 'foo.local'
    assert facts['issuer'] == 'CN=My CA Intermediate CA,O=My CA'
    assert facts['not_before'] == datetime.datetime(2026, 12, 4, 17, 50, 47)
    assert facts['not_after'] == datetime.datetime(2026, 12, 5, 17, 51, 47)


def test_parse_openssl_fields_rejects_missing_serial():
    with pytest.raises(CertificateError, match='unexpected openssl x509 output'):
        parse_openssl_fields('subject=CN=foo.local\n')


@pytest.mark.parametrize('name, expected', [
    ('CN=foo.local', 'foo.local'),
    ('CN=My CA Intermediate CA,O=My CA', 'My CA Intermediate CA'),
    ('O=Example\\, Inc.,CN=a.example', 'a.example'),
    ('O=Example', ''),
])
def test_common_name(name, expected):
    assert common_name(name) == expected


def test_parse_openssl_text_ec():
    parsed = parse_openssl_text(EC_TEXT)
    assert parsed['key'] == ('EC', 'P-256', None)
    assert parsed['sans'] == ['foo.local', 'ip-10-0-0-1.ec2.internal', '10.0.0.1']


@pytest.mark.parametrize('text, key', [
    ('Public Key Algorithm: rsaEncryption\n  Public-Key: (3072 bit)\n', ('RSA', None, 3072)),
    ('Public Key Algorithm: ED25519\n', ('OKP', 'Ed25519', None)),
    ('Public Key Algorithm: id-ecPublicKey\n ASN1 OID: secp384r1\n', ('EC', 'P-384', None)),
])
def test_parse_openssl_text_key_types(text, key):
    assert parse_openssl_text(text)['key'] == key


def test_parse_openssl_text_without_sans():
    assert parse_openssl_text('Public Key Algorithm: ED25519\n')['sans'] == []


def test_pem_blocks_and_fingerprint():
    der = b'not really DER, but any bytes have a fingerprint'
    body = base64.b64encode(der).decode('ascii')
    text = ('junk\n-----BEGIN CERTIFICATE-----\n%s\n-----END CERTIFICATE-----\n'
            '-----BEGIN CERTIFICATE-----\n%s\n-----END CERTIFICATE-----\n' % (body, body))
    blocks = pem_blocks(text)
    assert len(blocks) == 2
    assert pem_fingerprint(blocks[0]) == hashlib.sha256(der).hexdigest()


def test_pem_blocks_none():
    assert pem_blocks('no certificate here') == []


@pytest.mark.parametrize('text, expected', [
    ('Dec  6 13:50:02 2026 GMT', datetime.datetime(2026, 12, 6, 13, 50, 2)),
    ('Jan 31 00:00:00 2027 GMT', datetime.datetime(2027, 1, 31, 0, 0, 0)),
])
def test_parse_openssl_time_ignores_locale(text, expected):
    assert parse_openssl_time(text) == expected


@pytest.mark.parametrize('text', ['Dez  6 13:50:02 2026 GMT', '2026-12-06T13:50:02Z', ''])
def test_parse_openssl_time_invalid(text):
    with pytest.raises(ValueError, match='invalid openssl date'):
        parse_openssl_time(text)
