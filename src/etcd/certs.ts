// Certificates for a cluster: the etcd CA and its member and client certificates, and the
// apiserver's serving certificate. ECDSA P-256 over Node's webcrypto, PEM in and out, so that the
// bundled action needs no openssl on the runner. Validity is 5 years, as kube-up's easy-rsa gave.
// @peculiar/x509 resolves its parts through tsyringe, which needs a Reflect metadata polyfill
// loaded before it.
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import type { webcrypto as WebCrypto } from 'node:crypto';
import { isIP } from 'node:net';
import * as x509 from '@peculiar/x509';

type CryptoKey = WebCrypto.CryptoKey;

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

/** A certificate and its private key (PKCS#8), both PEM text. */
export interface PemPair {
  cert: string;
  key: string;
}

/** A CA is a self-signed certificate whose key signs the leaves. */
export type CertificateAuthority = PemPair;

export interface CertificateInfo {
  subject: string;
  issuer: string;
  serialNumber: string;
  isCa: boolean;
  dnsNames: string[];
  ipAddresses: string[];
  /** 'serverAuth' / 'clientAuth', or the OID of anything else. */
  extendedKeyUsages: string[];
  notBefore: Date;
  notAfter: Date;
}

const VALIDITY_YEARS = 5;
const EC_KEY = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGNING = { name: 'ECDSA', hash: 'SHA-256' } as const;
// Backdated so that a VM whose clock is a little behind the runner's accepts a fresh certificate.
const CLOCK_SKEW_MS = 5 * 60_000;

export async function createCa(commonName: string): Promise<CertificateAuthority> {
  const keys = await webcrypto.subtle.generateKey(EC_KEY, true, ['sign', 'verify']);
  const { notBefore, notAfter } = validity();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: dn(commonName),
    notBefore,
    notAfter,
    signingAlgorithm: SIGNING,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { cert: cert.toString('pem'), key: await exportKey(keys.privateKey) };
}

/**
 * One certificate for an etcd member's peer and client-serving TLS (docs/vm-contract.md): it serves
 * and it dials its peers, so it carries both usages; 127.0.0.1 lets tools on the VM dial it locally.
 */
export async function issueMemberCert(ca: CertificateAuthority, member: { vmName: string; internalIp: string }): Promise<PemPair> {
  return issueLeaf(ca, {
    commonName: member.vmName,
    ips: unique([member.internalIp, '127.0.0.1']),
    dnsNames: [member.vmName],
    usages: [x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth],
  });
}

/**
 * A client certificate. etcd checks only the chain and clientAuth; Kubernetes reads the CN as the
 * user and each O as a group (`system:masters` is the admin group). `validForMs` shortens it from
 * the default 5 years (a kubeconfig handed to a workflow step should expire soon).
 */
export async function issueClientCert(
  ca: CertificateAuthority,
  commonName: string,
  options: { organizations?: string[]; validForMs?: number } = {},
): Promise<PemPair> {
  return issueLeaf(ca, {
    commonName,
    organizations: options.organizations ?? [],
    ips: [],
    dnsNames: [],
    usages: [x509.ExtendedKeyUsage.clientAuth],
    ...(options.validForMs !== undefined ? { validForMs: options.validForMs } : {}),
  });
}

/** A P-256 private key (PKCS#8 PEM) for signing service-account tokens (kube-apiserver ES256). */
export async function createSigningKey(): Promise<string> {
  const keys = await webcrypto.subtle.generateKey(EC_KEY, true, ['sign', 'verify']);
  return exportKey(keys.privateKey);
}

/** The apiserver's serving certificate: the static IP and the service names as SANs. */
export async function issueServingCert(
  ca: CertificateAuthority,
  names: { ips: string[]; dnsNames: string[]; commonName?: string },
): Promise<PemPair> {
  const commonName = names.commonName ?? names.dnsNames[0] ?? names.ips[0] ?? 'kube-apiserver';
  return issueLeaf(ca, {
    commonName,
    ips: unique(names.ips),
    dnsNames: unique(names.dnsNames),
    usages: [x509.ExtendedKeyUsage.serverAuth],
  });
}

export function certificateInfo(pem: string): CertificateInfo {
  const cert = new x509.X509Certificate(pem);
  const san = cert.getExtension(x509.SubjectAlternativeNameExtension);
  const names = san ? san.names.toJSON() : [];
  const eku = cert.getExtension(x509.ExtendedKeyUsageExtension);
  const basic = cert.getExtension(x509.BasicConstraintsExtension);
  return {
    subject: cert.subject,
    issuer: cert.issuer,
    serialNumber: cert.serialNumber,
    isCa: basic?.ca ?? false,
    dnsNames: names.filter((n) => n.type === 'dns').map((n) => n.value),
    ipAddresses: names.filter((n) => n.type === 'ip').map((n) => n.value),
    extendedKeyUsages: Array.from(eku?.usages ?? [], (u) => usageName(String(u))),
    notBefore: cert.notBefore,
    notAfter: cert.notAfter,
  };
}

interface LeafSpec {
  commonName: string;
  organizations?: string[];
  validForMs?: number;
  ips: string[];
  dnsNames: string[];
  usages: x509.ExtendedKeyUsage[];
}

async function issueLeaf(ca: CertificateAuthority, spec: LeafSpec): Promise<PemPair> {
  for (const ip of spec.ips) {
    if (!isIP(ip)) throw new Error(`cannot issue a certificate for IP SAN "${ip}": not an IP address`);
  }
  const caCert = new x509.X509Certificate(ca.cert);
  const caKey = await importKey(ca.key);
  const keys = await webcrypto.subtle.generateKey(EC_KEY, true, ['sign', 'verify']);
  const { notBefore, notAfter } = validity(spec.validForMs);
  const sans: x509.JsonGeneralName[] = [
    ...spec.dnsNames.map((value) => ({ type: 'dns' as const, value })),
    ...spec.ips.map((value) => ({ type: 'ip' as const, value })),
  ];
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
    new x509.ExtendedKeyUsageExtension(spec.usages),
    await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    await x509.AuthorityKeyIdentifierExtension.create(caCert.publicKey),
  ];
  if (sans.length > 0) extensions.push(new x509.SubjectAlternativeNameExtension(sans));
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: dn(spec.commonName, spec.organizations),
    issuer: caCert.subject,
    notBefore,
    notAfter,
    signingAlgorithm: SIGNING,
    publicKey: keys.publicKey,
    signingKey: caKey,
    extensions,
  });
  return { cert: cert.toString('pem'), key: await exportKey(keys.privateKey) };
}

function validity(validForMs?: number): { notBefore: Date; notAfter: Date } {
  const notBefore = new Date(Date.now() - CLOCK_SKEW_MS);
  if (validForMs !== undefined) return { notBefore, notAfter: new Date(Date.now() + validForMs) };
  const notAfter = new Date(notBefore);
  notAfter.setUTCFullYear(notAfter.getUTCFullYear() + VALIDITY_YEARS);
  return { notBefore, notAfter };
}

/** 16 random bytes with the top bit clear: a positive DER INTEGER, unique in practice. */
function randomSerial(): string {
  const bytes = webcrypto.getRandomValues(new Uint8Array(16));
  bytes[0] = (bytes[0]! & 0x7f) | 0x01;
  return Buffer.from(bytes).toString('hex');
}

function dn(commonName: string, organizations: string[] = []): string {
  // Escape the RFC 4514 specials so a name cannot smuggle in extra attributes.
  const escape = (v: string): string => v.replace(/([,+"\\<>;=])/g, '\\$1');
  return [`CN=${escape(commonName)}`, ...organizations.map((o) => `O=${escape(o)}`)].join(', ');
}

async function exportKey(key: CryptoKey): Promise<string> {
  const der = await webcrypto.subtle.exportKey('pkcs8', key);
  return x509.PemConverter.encode(der, 'PRIVATE KEY');
}

async function importKey(pem: string): Promise<CryptoKey> {
  return webcrypto.subtle.importKey('pkcs8', x509.PemConverter.decodeFirst(pem), EC_KEY, false, ['sign']);
}

function usageName(oid: string): string {
  if (oid === x509.ExtendedKeyUsage.serverAuth) return 'serverAuth';
  if (oid === x509.ExtendedKeyUsage.clientAuth) return 'clientAuth';
  return oid;
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}
