# Copyright 2026 The iidca authors
# SPDX-License-Identifier: Apache-2.0
#
# Private to this collection: the interface may change without notice.

"""Read and check the certificate chains that iidca writes, with the openssl command.

The cryptography library of Debian 12 (38.0) rejects iidca's leaf certificates: their
provisioner extension has an OID under 2.25 (a UUID arc, ITU-T X.667) whose 128-bit arc it
cannot parse. openssl 3 reads them, so the modules use it for leaf certificates.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import binascii
import datetime
import hashlib
import os
import re
import tempfile

_PEM_BLOCK = re.compile(
    r'-----BEGIN CERTIFICATE-----\s*(.+?)\s*-----END CERTIFICATE-----', re.DOTALL)
# openssl prints dates such as `Dec  6 13:50:02 2026 GMT` with English month names in every
# locale, while strptime's %b follows the locale that AnsibleModule sets from the environment.
_OPENSSL_TIME = re.compile(r'^([A-Z][a-z]{2})\s+(\d{1,2}) (\d{2}):(\d{2}):(\d{2}) (\d{4}) GMT$')
_MONTHS = ('Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec')
_ISO_FORMAT = '%Y-%m-%dT%H:%M:%SZ'
_CURVE_NAMES = {'prime256v1': 'P-256', 'secp384r1': 'P-384', 'secp521r1': 'P-521'}


class CertificateError(Exception):
    """A certificate file that cannot be read or parsed."""


def utcnow():
    """Return the current time as a naive UTC datetime, second precision."""
    return datetime.datetime.utcnow().replace(microsecond=0)


def pem_blocks(text):
    """Return the PEM certificate blocks of text, in order, each with BEGIN and END lines."""
    return ['-----BEGIN CERTIFICATE-----\n%s\n-----END CERTIFICATE-----\n' % body.strip()
            for body in _PEM_BLOCK.findall(text)]


def pem_fingerprint(block):
    """Return the SHA-256 of a PEM block's DER encoding, 64 lower-case hex digits."""
    body = _PEM_BLOCK.search(block).group(1)
    der = base64.b64decode(re.sub(r'\s', '', body))
    return hashlib.sha256(der).hexdigest()


def read_pem_blocks(path):
    """Return the PEM certificate blocks of the file at path, or raise CertificateError."""
    try:
        with open(path, 'r') as handle:
            blocks = pem_blocks(handle.read())
    except (IOError, OSError, UnicodeDecodeError) as error:
        raise CertificateError('%s cannot be read: %s' % (path, error))
    if not blocks:
        raise CertificateError('%s contains no PEM certificate' % path)
    return blocks


def file_fingerprint(path):
    """Return the SHA-256 fingerprint of the first certificate in path, or None."""
    try:
        return pem_fingerprint(read_pem_blocks(path)[0])
    except (CertificateError, binascii.Error, ValueError):
        return None


def parse_openssl_fields(output):
    """Parse `openssl x509 -noout -serial -subject -issuer -startdate -enddate` output.

    Subject and issuer must be printed with -nameopt RFC2253.
    """
    fields = {}
    for line in output.splitlines():
        key, separator, value = line.partition('=')
        if separator:
            fields[key.strip()] = value.strip()
    try:
        serial = int(fields['serial'], 16)
        not_before = parse_openssl_time(fields['notBefore'])
        not_after = parse_openssl_time(fields['notAfter'])
    except (KeyError, ValueError) as error:
        raise CertificateError('unexpected openssl x509 output (%s): %s' % (error, output))
    return dict(
        serial=str(serial),
        serial_hex='%x' % serial,
        subject=common_name(fields.get('subject', '')),
        issuer=fields.get('issuer', ''),
        not_before=not_before,
        not_after=not_after,
    )


def parse_openssl_time(text):
    """Parse an openssl date such as `Dec  6 13:50:02 2026 GMT` into a naive UTC datetime.

    Raise ValueError for any other text. Independent of the locale.
    """
    match = _OPENSSL_TIME.match(text.strip())
    if not match or match.group(1) not in _MONTHS:
        raise ValueError('invalid openssl date %r' % text)
    month = _MONTHS.index(match.group(1)) + 1
    day, hour, minute, second, year = (int(match.group(i)) for i in (2, 3, 4, 5, 6))
    return datetime.datetime(year, month, day, hour, minute, second)


def common_name(rfc2253_name):
    """Return the CN of an RFC 2253 name such as CN=foo.local,O=Example, or an empty string."""
    for part in re.split(r'(?<!\\),', rfc2253_name):
        key, separator, value = part.partition('=')
        if separator and key.strip().upper() == 'CN':
            return value.strip().replace('\\', '')
    return ''


def parse_openssl_text(output):
    """Parse `openssl x509 -noout -text` output into its key and subject alternative names.

    Return a dict with key (kty, curve or None, size or None) as iidca's --kty, --curve and
    --size name them, and sans, the DNS names and IP addresses in order.
    """
    algorithm = re.search(r'Public Key Algorithm:\s*(\S+)', output)
    algorithm = algorithm.group(1) if algorithm else ''
    if algorithm == 'id-ecPublicKey':
        curve = re.search(r'ASN1 OID:\s*(\S+)', output)
        curve = curve.group(1) if curve else ''
        key = ('EC', _CURVE_NAMES.get(curve, curve), None)
    elif algorithm == 'rsaEncryption':
        size = re.search(r'Public-Key:\s*\((\d+) bit\)', output)
        key = ('RSA', None, int(size.group(1)) if size else None)
    elif algorithm == 'ED25519':
        key = ('OKP', 'Ed25519', None)
    else:
        key = (algorithm, None, None)
    sans = []
    match = re.search(r'X509v3 Subject Alternative Name:.*?\n\s*(.+)', output)
    if match:
        for entry in match.group(1).split(','):
            kind, separator, value = entry.strip().partition(':')
            if separator and kind in ('DNS', 'IP Address'):
                sans.append(value.strip())
    return dict(key=key, sans=sans)


class OpenSSL(object):
    """Run openssl for one module invocation."""

    def __init__(self, module):
        self.module = module
        self.binary = module.get_bin_path('openssl', required=True)

    def _run(self, args, data=None):
        rc, stdout, stderr = self.module.run_command([self.binary] + args, data=data,
                                                     binary_data=True)
        return rc, stdout, stderr

    def describe(self, block):
        """Return the facts of one PEM certificate block, or raise CertificateError."""
        fields_args = ['x509', '-noout', '-nameopt', 'RFC2253', '-serial', '-subject', '-issuer',
                       '-startdate', '-enddate']
        rc, stdout, stderr = self._run(fields_args, data=block)
        if rc != 0:
            raise CertificateError('openssl x509 cannot parse the certificate: %s'
                                   % stderr.strip())
        facts = parse_openssl_fields(stdout)
        rc, stdout, stderr = self._run(['x509', '-noout', '-text'], data=block)
        if rc != 0:
            raise CertificateError('openssl x509 -text cannot parse the certificate: %s'
                                   % stderr.strip())
        facts.update(parse_openssl_text(stdout))
        facts['fingerprint'] = pem_fingerprint(block)
        return facts

    def key_matches(self, block, key_path):
        """Return whether the private key file at key_path contains the public key of block.

        False when openssl cannot read the key. The key never leaves the managed host.
        """
        rc, key_public, dummy = self._run(['pkey', '-in', key_path, '-pubout'])
        if rc != 0:
            return False
        rc, certificate_public, dummy = self._run(['x509', '-noout', '-pubkey'], data=block)
        return rc == 0 and key_public.strip() == certificate_public.strip()

    def chain_problem(self, blocks, root_path):
        """Return why the chain (leaf first) does not verify to root_path now, or None.

        Runs `openssl verify -CAfile ROOT -untrusted REST LEAF`, which checks signatures,
        validity periods and CA constraints along the path.
        """
        directory = tempfile.mkdtemp(dir=self.module.tmpdir)
        leaf_path = os.path.join(directory, 'leaf.pem')
        with open(leaf_path, 'w') as handle:
            handle.write(blocks[0])
        args = ['verify', '-CAfile', root_path]
        if len(blocks) > 1:
            untrusted_path = os.path.join(directory, 'untrusted.pem')
            with open(untrusted_path, 'w') as handle:
                handle.write(''.join(blocks[1:]))
            args += ['-untrusted', untrusted_path]
        rc, stdout, stderr = self._run(args + [leaf_path])
        if rc == 0:
            return None
        return ' '.join((stdout + stderr).replace(leaf_path, 'the certificate').split())


def to_iso(moment):
    """Format a naive UTC datetime as ISO 8601 with a Z."""
    return moment.strftime(_ISO_FORMAT)


def public_facts(facts, names):
    """Return the named facts, with datetimes as ISO 8601 strings."""
    result = {}
    for name in names:
        value = facts[name]
        result[name] = to_iso(value) if isinstance(value, datetime.datetime) else value
    return result
