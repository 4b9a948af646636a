/**
 * X.509 certificates for cilo's local CA: the CA itself and the leaf certificates the router
 * serves. Keys and signatures come from Node's crypto (ECDSA P-256, SHA-256); the certificate
 * structures are encoded by @peculiar/asn1-x509 (RFC 5280's ASN.1 schema as classes), so no DER
 * is written by hand here.
 */
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import {
  AlgorithmIdentifier,
  AttributeTypeAndValue,
  AttributeValue,
  AuthorityKeyIdentifier,
  BasicConstraints,
  Certificate,
  ExtendedKeyUsage,
  Extension,
  Extensions,
  GeneralName,
  GeneralSubtree,
  GeneralSubtrees,
  KeyIdentifier,
  KeyUsage,
  KeyUsageFlags,
  Name,
  NameConstraints,
  RelativeDistinguishedName,
  SubjectAlternativeName,
  SubjectKeyIdentifier,
  SubjectPublicKeyInfo,
  TBSCertificate,
  Validity,
  Version,
  id_ce_authorityKeyIdentifier,
  id_ce_basicConstraints,
  id_ce_extKeyUsage,
  id_ce_keyUsage,
  id_ce_nameConstraints,
  id_ce_subjectAltName,
  id_ce_subjectKeyIdentifier,
  id_kp_serverAuth,
} from '@peculiar/asn1-x509';
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { isIP } from 'node:net';

const ECDSA_WITH_SHA256 = '1.2.840.10045.4.3.2';
const COMMON_NAME = '2.5.4.3';
const ORGANIZATION = '2.5.4.10';
const DAY_MS = 24 * 60 * 60 * 1000;
/** The CA lives ten years: trusting it is a manual step, not to be asked for again soon. */
export const CA_DAYS = 3650;
/** The router's intermediate CA lives a year; cilo makes a new one 30 days before its end. */
export const INTERMEDIATE_DAYS = 365;
/** A leaf lives a year (Apple's clients refuse server certificates valid for more than 398 days). */
export const LEAF_DAYS = 365;

export interface PemPair {
  cert: string;
  key: string;
}

function pem(label: string, der: ArrayBuffer | Buffer): string {
  const b64 = Buffer.from(der instanceof ArrayBuffer ? new Uint8Array(der) : der).toString('base64');
  return `-----BEGIN ${label}-----\n${b64.replace(/.{1,64}/g, '$&\n')}-----END ${label}-----\n`;
}

function derOf(pemText: string): Buffer {
  const b64 = pemText.replace(/-----(BEGIN|END) [A-Z ]+-----/g, '').replace(/\s+/g, '');
  return Buffer.from(b64, 'base64');
}

function nameOf(commonName: string): Name {
  const attr = (type: string, value: string) => new RelativeDistinguishedName([new AttributeTypeAndValue({ type, value: new AttributeValue({ utf8String: value }) })]);
  return new Name([attr(ORGANIZATION, 'cilo'), attr(COMMON_NAME, commonName)]);
}

function extension(extnID: string, critical: boolean, value: unknown): Extension {
  return new Extension({ extnID, critical, extnValue: new OctetString(AsnConvert.serialize(value)) });
}

/** RFC 5280 4.2.1.2 method 1: SHA-1 of the subjectPublicKey bits. */
function keyIdOf(spki: SubjectPublicKeyInfo): Buffer {
  return createHash('sha1').update(new Uint8Array(spki.subjectPublicKey)).digest();
}

function spkiOf(key: KeyObject): SubjectPublicKeyInfo {
  return AsnConvert.parse(createPublicKey(key).export({ type: 'spki', format: 'der' }), SubjectPublicKeyInfo);
}

/** A positive 16-byte serial number (the top bit cleared keeps the INTEGER positive). */
function serialNumber(): ArrayBuffer {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] ?? 0) & 0x7f | 0x01;
  return new Uint8Array(bytes).buffer;
}

function keyUsage(flags: number): KeyUsage {
  return new KeyUsage(flags);
}

function signCertificate(tbs: TBSCertificate, signer: KeyObject): string {
  const tbsDer = Buffer.from(AsnConvert.serialize(tbs));
  // Node's ECDSA signature is DER (ECDSA-Sig-Value), as X.509 wants it.
  const signature = sign('sha256', tbsDer, signer);
  const cert = new Certificate({
    tbsCertificate: tbs,
    signatureAlgorithm: new AlgorithmIdentifier({ algorithm: ECDSA_WITH_SHA256 }),
    signatureValue: new Uint8Array(signature).buffer,
  });
  return pem('CERTIFICATE', AsnConvert.serialize(cert));
}

function newKey(): KeyObject {
  return generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
}

/**
 * A self-signed CA certificate and its key (PKCS#8 PEM). `label` tells CAs of different CILO_HOMEs
 * apart in a trust store. `pathLen`: how many CA certificates may follow it (1: the router's
 * intermediate; an older cilo made 0, which tests use to make such a CA).
 */
export function makeCa(label: string, now: Date = new Date(), pathLen = 1): PemPair {
  const key = newKey();
  const spki = spkiOf(key);
  const keyId = keyIdOf(spki);
  const name = nameOf(`cilo local CA ${label}`);
  const tbs = new TBSCertificate({
    version: Version.v3,
    serialNumber: serialNumber(),
    signature: new AlgorithmIdentifier({ algorithm: ECDSA_WITH_SHA256 }),
    issuer: name,
    subject: name,
    // An hour back: a clock a little behind must not see a certificate from the future.
    validity: new Validity({ notBefore: new Date(now.getTime() - 60 * 60 * 1000), notAfter: new Date(now.getTime() + CA_DAYS * DAY_MS) }),
    subjectPublicKeyInfo: spki,
    extensions: new Extensions([
      // One intermediate below it (the router's, name-constrained; see issueIntermediate), none deeper.
      extension(id_ce_basicConstraints, true, new BasicConstraints({ cA: true, pathLenConstraint: pathLen })),
      extension(id_ce_keyUsage, true, keyUsage(KeyUsageFlags.keyCertSign | KeyUsageFlags.cRLSign | KeyUsageFlags.digitalSignature)),
      extension(id_ce_subjectKeyIdentifier, false, new SubjectKeyIdentifier(new Uint8Array(keyId))),
    ]),
  });
  return { cert: signCertificate(tbs, key), key: key.export({ type: 'pkcs8', format: 'pem' }).toString() };
}

function generalName(name: string): GeneralName {
  return isIP(name) ? new GeneralName({ iPAddress: name }) : new GeneralName({ dNSName: name });
}

/**
 * A server certificate for `names` (DNS names, `*.x` wildcards, IP addresses), signed by the CA.
 * Valid for LEAF_DAYS, never past the CA's own end.
 */
export function issueLeaf(ca: PemPair, caNotAfter: Date, names: string[], now: Date = new Date()): PemPair {
  if (names.length === 0) throw new Error('a certificate needs at least one name');
  const caKey = createPrivateKey(ca.key);
  const caCert = AsnConvert.parse(derOf(ca.cert), Certificate);
  const key = newKey();
  const spki = spkiOf(key);
  const notAfter = new Date(Math.min(now.getTime() + LEAF_DAYS * DAY_MS, caNotAfter.getTime()));
  const tbs = new TBSCertificate({
    version: Version.v3,
    serialNumber: serialNumber(),
    signature: new AlgorithmIdentifier({ algorithm: ECDSA_WITH_SHA256 }),
    issuer: caCert.tbsCertificate.subject,
    // Clients match the names in the SAN; the CN is only for people reading the certificate.
    subject: nameOf(names[0] ?? ''),
    validity: new Validity({ notBefore: new Date(now.getTime() - 60 * 60 * 1000), notAfter }),
    subjectPublicKeyInfo: spki,
    extensions: new Extensions([
      extension(id_ce_basicConstraints, true, new BasicConstraints({ cA: false })),
      extension(id_ce_keyUsage, true, keyUsage(KeyUsageFlags.digitalSignature)),
      extension(id_ce_extKeyUsage, false, new ExtendedKeyUsage([id_kp_serverAuth])),
      extension(id_ce_subjectAltName, false, new SubjectAlternativeName([...new Set(names)].map(generalName))),
      extension(id_ce_subjectKeyIdentifier, false, new SubjectKeyIdentifier(new Uint8Array(keyIdOf(spki)))),
      extension(id_ce_authorityKeyIdentifier, false, new AuthorityKeyIdentifier({ keyIdentifier: new KeyIdentifier(new Uint8Array(keyIdOf(caCert.tbsCertificate.subjectPublicKeyInfo))) })),
    ]),
  });
  return { cert: signCertificate(tbs, caKey), key: key.export({ type: 'pkcs8', format: 'pem' }).toString() };
}

/**
 * The DNS name constraint for a routed suffix: `.test` -> `test`, RFC 5280's form (the name and
 * every name below it), which every verifier reads alike; a leading dot is a convention some
 * verifiers read differently.
 */
export function dnsConstraintOf(suffix: string): string {
  return suffix.trim().toLowerCase().replace(/^\.+/, '').replace(/\.+$/, '');
}

/**
 * An intermediate CA certificate for the loopback router, signed by the root `ca`, with its own
 * key: whoever holds it can sign certificates only for names under `suffixes` (a critical
 * NameConstraints extension permits exactly those DNS subtrees and excludes every IP address),
 * and no CA below it (pathLen 0). The router holds it instead of the root's key, which would sign
 * for any site. Valid for INTERMEDIATE_DAYS, never past the root's end. No suffix at all permits
 * only `invalid` (RFC 2606: never a real name).
 */
export function issueIntermediate(ca: PemPair, caNotAfter: Date, suffixes: readonly string[], now: Date = new Date()): PemPair {
  const caKey = createPrivateKey(ca.key);
  const caCert = AsnConvert.parse(derOf(ca.cert), Certificate);
  const permitted = [...new Set(suffixes.map(dnsConstraintOf).filter((s) => s !== ''))].sort();
  if (permitted.length === 0) permitted.push('invalid');
  const key = newKey();
  const spki = spkiOf(key);
  const notAfter = new Date(Math.min(now.getTime() + INTERMEDIATE_DAYS * DAY_MS, caNotAfter.getTime()));
  const subtrees = (names: GeneralName[]) => new GeneralSubtrees(names.map((base) => new GeneralSubtree({ base })));
  const constraints = new NameConstraints({
    permittedSubtrees: subtrees(permitted.map((dNSName) => new GeneralName({ dNSName }))),
    excludedSubtrees: subtrees(['0.0.0.0/0', '::/0'].map((iPAddress) => new GeneralName({ iPAddress }))),
  });
  const tbs = new TBSCertificate({
    version: Version.v3,
    serialNumber: serialNumber(),
    signature: new AlgorithmIdentifier({ algorithm: ECDSA_WITH_SHA256 }),
    issuer: caCert.tbsCertificate.subject,
    subject: nameOf(`cilo router CA (${permitted.join(' ')})`),
    validity: new Validity({ notBefore: new Date(now.getTime() - 60 * 60 * 1000), notAfter }),
    subjectPublicKeyInfo: spki,
    extensions: new Extensions([
      extension(id_ce_basicConstraints, true, new BasicConstraints({ cA: true, pathLenConstraint: 0 })),
      extension(id_ce_keyUsage, true, keyUsage(KeyUsageFlags.keyCertSign | KeyUsageFlags.cRLSign)),
      extension(id_ce_nameConstraints, true, constraints),
      extension(id_ce_subjectKeyIdentifier, false, new SubjectKeyIdentifier(new Uint8Array(keyIdOf(spki)))),
      extension(id_ce_authorityKeyIdentifier, false, new AuthorityKeyIdentifier({ keyIdentifier: new KeyIdentifier(new Uint8Array(keyIdOf(caCert.tbsCertificate.subjectPublicKeyInfo))) })),
    ]),
  });
  return { cert: signCertificate(tbs, caKey), key: key.export({ type: 'pkcs8', format: 'pem' }).toString() };
}

/** Whether a CA certificate lets a CA certificate sign below it (its pathLen is absent or above 0). */
export function allowsIntermediate(caPem: string): boolean {
  const cert = AsnConvert.parse(derOf(caPem), Certificate);
  const ext = cert.tbsCertificate.extensions?.find((e) => e.extnID === id_ce_basicConstraints);
  if (!ext) return false;
  const bc = AsnConvert.parse(ext.extnValue.buffer, BasicConstraints);
  return bc.cA && (bc.pathLenConstraint === undefined || bc.pathLenConstraint > 0);
}
