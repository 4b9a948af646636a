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
  KeyIdentifier,
  KeyUsage,
  KeyUsageFlags,
  Name,
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

/** A self-signed CA certificate and its key (PKCS#8 PEM). `label` tells CAs of different CILO_HOMEs apart in a trust store. */
export function makeCa(label: string, now: Date = new Date()): PemPair {
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
      extension(id_ce_basicConstraints, true, new BasicConstraints({ cA: true, pathLenConstraint: 0 })),
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
