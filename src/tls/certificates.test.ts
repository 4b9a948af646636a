import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import { connect, createServer, type TLSSocket } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { AsnConvert } from '@peculiar/asn1-schema';
import { BasicConstraints, Certificate, KeyUsage, KeyUsageFlags, NameConstraints, id_ce_basicConstraints, id_ce_keyUsage, id_ce_nameConstraints } from '@peculiar/asn1-x509';
import { allowsIntermediate, dnsConstraintOf, issueIntermediate, issueLeaf, makeCa } from './certificates.js';

const DAY = 86_400_000;

function extensionOf(pem: string, id: string) {
  const der = Buffer.from(pem.replace(/-----(BEGIN|END) [A-Z ]+-----/g, '').replace(/\s+/g, ''), 'base64');
  return AsnConvert.parse(der, Certificate).tbsCertificate.extensions?.find((e) => e.extnID === id);
}

test('the router intermediate: signed by the root, a CA with pathLen 0 that signs certificates only, for one year within the root', () => {
  const now = new Date();
  const root = makeCa('t', now);
  const rootX = new X509Certificate(root.cert);
  const inter = issueIntermediate(root, new Date(rootX.validTo), ['.test', '.localhost'], now);
  const x = new X509Certificate(inter.cert);
  assert.equal(x.ca, true);
  assert.equal(x.checkIssued(rootX), true, 'issued by the root');
  assert.equal(x.verify(rootX.publicKey), true, "signed with the root's key");
  assert.equal(x.verify(x.publicKey), false, 'not self-signed');
  assert.equal(x.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
  assert.notEqual(x.publicKey.export({ format: 'pem', type: 'spki' }), rootX.publicKey.export({ format: 'pem', type: 'spki' }), 'a key of its own');
  const days = (new Date(x.validTo).getTime() - now.getTime()) / DAY;
  assert.ok(days > 364 && days <= 366, `${days} days`);
  const bc = extensionOf(inter.cert, id_ce_basicConstraints);
  assert.equal(bc?.critical, true);
  assert.deepEqual({ ...AsnConvert.parse(bc?.extnValue.buffer ?? new ArrayBuffer(0), BasicConstraints) }, { cA: true, pathLenConstraint: 0 });
  const ku = extensionOf(inter.cert, id_ce_keyUsage);
  assert.equal(ku?.critical, true);
  assert.equal(AsnConvert.parse(ku?.extnValue.buffer ?? new ArrayBuffer(0), KeyUsage).toNumber(), KeyUsageFlags.keyCertSign | KeyUsageFlags.cRLSign);

  // Never past the root's end.
  const soon = new Date(now.getTime() + 10 * DAY);
  assert.ok(new Date(new X509Certificate(issueIntermediate(root, soon, ['.test'], now).cert).validTo) <= soon);
});

test('the intermediate names exactly the routed suffixes in a critical NameConstraints extension, and excludes every IP address', () => {
  const root = makeCa('t');
  const inter = issueIntermediate(root, new Date(Date.now() + 3650 * DAY), ['.test', '.localhost', '.test', '.dev.local'], new Date());
  const ext = extensionOf(inter.cert, id_ce_nameConstraints);
  assert.ok(ext, 'a NameConstraints extension');
  assert.equal(ext.critical, true);
  const nc = AsnConvert.parse(ext.extnValue.buffer, NameConstraints);
  assert.deepEqual([...(nc.permittedSubtrees ?? [])].map((s) => s.base.dNSName), ['dev.local', 'localhost', 'test']);
  assert.deepEqual([...(nc.excludedSubtrees ?? [])].map((s) => s.base.iPAddress), ['0.0.0.0/0', '::/0']);
  assert.equal(dnsConstraintOf('.Test.'), 'test');

  const none = AsnConvert.parse(extensionOf(issueIntermediate(root, new Date(Date.now() + 3650 * DAY), [], new Date()).cert, id_ce_nameConstraints)?.extnValue.buffer ?? new ArrayBuffer(0), NameConstraints);
  assert.deepEqual([...(none.permittedSubtrees ?? [])].map((s) => s.base.dNSName), ['invalid'], 'no suffix: nothing real is permitted');
});

test('the root allows one intermediate; a root of an older cilo (pathLen 0) is told apart', () => {
  assert.equal(allowsIntermediate(makeCa('t').cert), true);
  assert.equal(allowsIntermediate(makeCa('t', new Date(), 0).cert), false);
});

/** A TLS handshake with a server that sends `leaf` and `chain`, the client trusting `ca` only. */
async function handshake(leaf: { cert: string; key: string }, chain: string, ca: string, servername: string): Promise<TLSSocket | NodeJS.ErrnoException> {
  const server = createServer({ cert: leaf.cert + chain, key: leaf.key }, (s) => s.end());
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  try {
    const { port } = server.address() as AddressInfo;
    const socket = connect({ host: '127.0.0.1', port, servername, ca });
    // (events.once rejects on 'error': each outcome is listened for by hand.)
    const result = await new Promise<TLSSocket | NodeJS.ErrnoException>((resolve) => {
      socket.once('secureConnect', () => resolve(socket));
      socket.once('error', (e: NodeJS.ErrnoException) => resolve(e));
    });
    socket.destroy();
    return result;
  } finally {
    server.close();
  }
}

test('a client trusting the root alone accepts a leaf the intermediate signed for a routed name (the server sends the intermediate), and refuses one for any other site', async () => {
  const root = makeCa('t');
  const rootEnd = new Date(new X509Certificate(root.cert).validTo);
  const inter = issueIntermediate(root, rootEnd, ['.test', '.localhost'], new Date());
  const interEnd = new Date(new X509Certificate(inter.cert).validTo);
  const good = await handshake(issueLeaf(inter, interEnd, ['*.agent-1.test']), inter.cert, root.cert, 'web.agent-1.test');
  assert.ok(!(good instanceof Error), `refused: ${good instanceof Error ? good.message : ''}`);
  assert.equal(good.authorized, true);

  // What a stolen intermediate key could do: sign for bank.com. The name constraints refuse it.
  const bad = await handshake(issueLeaf(inter, interEnd, ['bank.com']), inter.cert, root.cert, 'bank.com');
  assert.ok(bad instanceof Error, 'a leaf for bank.com from the intermediate must be refused');
  assert.match(bad.message, /name constraint|permitted/i);
  const ip = await handshake(issueLeaf(inter, interEnd, ['127.0.0.1']), inter.cert, root.cert, 'x.test');
  assert.ok(ip instanceof Error, 'a leaf for an IP address from the intermediate must be refused');

  // An older cilo's root (pathLen 0) cannot anchor an intermediate: why such a root is made anew.
  const old = makeCa('t', new Date(), 0);
  const oldInter = issueIntermediate(old, rootEnd, ['.test'], new Date());
  const refused = await handshake(issueLeaf(oldInter, interEnd, ['a.test']), oldInter.cert, old.cert, 'a.test');
  assert.ok(refused instanceof Error, 'pathLen 0 refuses an intermediate');
});
