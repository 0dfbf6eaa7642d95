// What Antenna needs to know about a PEM certificate chain: names, validity, issuer, and the RFC 9773
// certificate identifier (authority key identifier + serial) used to ask the CA for a renewal window.
import { X509Certificate, createPrivateKey } from 'node:crypto';

export interface CertificateInfo {
  readonly subject: string;
  readonly issuer: string;
  readonly altNames: readonly string[];
  readonly notBefore: number;
  readonly notAfter: number;
  readonly serial: string;
  readonly fingerprint256: string;
  /** `base64url(AKI keyIdentifier).base64url(serial)`, or undefined when the certificate has no AKI. */
  readonly ariCertId: string | undefined;
}

/** Parses the first (leaf) certificate of a PEM chain; throws on anything that is not one. */
export function readCertificate(chainPem: string): CertificateInfo {
  const x = new X509Certificate(chainPem);
  const altNames = (x.subjectAltName ?? '')
    .split(/,\s*/)
    .map((s) => /^DNS:(.+)$/.exec(s)?.[1]?.toLowerCase())
    .filter((s): s is string => s !== undefined);
  const aki = authorityKeyIdentifier(x.raw);
  const serialBytes = serialDer(x.serialNumber);
  return {
    subject: x.subject.replace(/\n/g, ', '),
    issuer: x.issuer.replace(/\n/g, ', '),
    altNames,
    notBefore: Date.parse(x.validFrom),
    notAfter: Date.parse(x.validTo),
    serial: x.serialNumber,
    fingerprint256: x.fingerprint256,
    ariCertId: aki ? `${aki.toString('base64url')}.${serialBytes.toString('base64url')}` : undefined,
  };
}

/** Checks that `keyPem` is the private key of the leaf of `chainPem` (a mismatched pair would fail every handshake). */
export function keyMatches(chainPem: string, keyPem: string): boolean {
  try {
    return new X509Certificate(chainPem).checkPrivateKey(createPrivateKey(keyPem));
  } catch {
    return false;
  }
}

/** Whether the certificate names every domain (exactly or by a one-label wildcard). */
export function coversDomains(info: Pick<CertificateInfo, 'altNames'>, domains: readonly string[]): boolean {
  return domains.every((d) =>
    info.altNames.some((n) => n === d || (n.startsWith('*.') && d.split('.').length === n.split('.').length && d.endsWith(n.slice(1)))),
  );
}

/** The serial as the content bytes of its DER INTEGER (a leading 0x00 when the top bit is set). */
export function serialDer(hex: string): Buffer {
  const clean = hex.replace(/[^0-9a-fA-F]/g, '');
  let b = Buffer.from(clean.length % 2 ? '0' + clean : clean, 'hex');
  while (b.length > 1 && b[0] === 0 && ((b[1] as number) & 0x80) === 0) b = b.subarray(1);
  return ((b[0] ?? 0) & 0x80) !== 0 ? Buffer.concat([Buffer.from([0]), b]) : b;
}

/** Reads one DER length at `off`: [length, offset of the content]. */
function derLength(der: Buffer, off: number): [number, number] {
  const first = der[off];
  if (first === undefined) throw new RangeError('truncated DER');
  if (first < 0x80) return [first, off + 1];
  const n = first & 0x7f;
  if (n === 0 || n > 4 || off + 1 + n > der.length) throw new RangeError('bad DER length');
  let len = 0;
  for (let i = 0; i < n; i++) len = len * 256 + (der[off + 1 + i] as number);
  return [len, off + 1 + n];
}

// OID 2.5.29.35 (authorityKeyIdentifier), DER-encoded with its tag and length.
const AKI_OID = Buffer.from([0x06, 0x03, 0x55, 0x1d, 0x23]);

/** The keyIdentifier of the authority key identifier extension, if there is one. */
export function authorityKeyIdentifier(der: Buffer): Buffer | undefined {
  try {
    let off = der.indexOf(AKI_OID);
    if (off < 0) return undefined;
    off += AKI_OID.length;
    if (der[off] === 0x01) off += 3; // critical BOOLEAN
    if (der[off] !== 0x04) return undefined; // extnValue OCTET STRING
    let [, p] = derLength(der, off + 1);
    if (der[p] !== 0x30) return undefined; // AuthorityKeyIdentifier SEQUENCE
    [, p] = derLength(der, p + 1);
    if (der[p] !== 0x80) return undefined; // [0] keyIdentifier
    const [len, start] = derLength(der, p + 1);
    return start + len <= der.length ? Buffer.from(der.subarray(start, start + len)) : undefined;
  } catch {
    return undefined;
  }
}
