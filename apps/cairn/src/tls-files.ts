import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { createSecureContext } from 'node:tls';
import * as selfsigned from 'selfsigned';
import { TlsMaterial } from '../../../libs/consensus/src';
import { CairnConfig } from './config';
import { opensslCiphers } from './config/cipher-suites';
import { Logger } from './logging';

/** Days etcd's self-signed --auto-tls certificates are valid for. */
const AUTO_TLS_DAYS = 365;

/** One side's TLS flags (client or peer), with their names for messages. */
interface TlsFlags {
  side: 'client' | 'peer';
  urls: { url: string; host: string; port: number; scheme: string }[];
  certFile: [flag: string, path: string];
  keyFile: [flag: string, path: string];
  caFile: [flag: string, path: string];
  crlFile: [flag: string, path: string];
  clientCertAuth: [flag: string, on: boolean];
  autoTls: boolean;
  allowedCn: string;
  allowedHostname: string;
}

/**
 * The client TLS material for https:// client listeners, from --cert-file/--key-file/
 * --trusted-ca-file/--client-crl-file or generated at start by --auto-tls. Fails with the
 * reason when a file is missing or invalid: a listener asked to speak TLS never falls back to
 * plain text.
 */
export async function loadClientTls(config: CairnConfig, logger: Logger): Promise<TlsMaterial | undefined> {
  const tlsUrls = config.listenClientUrls.filter((u) => u.scheme === 'https');
  if (tlsUrls.length === 0) {
    if (config.certFile !== '' || config.keyFile !== '')
      logger.warn('scheme is HTTP while key and cert files are present; ignoring key and cert files', {
        'client-urls': config.listenClientUrls.map((u) => u.url),
      });
    return undefined;
  }
  if ((config.certFile === '' || config.keyFile === '') && !config.autoTls) {
    throw new Error(
      `TLS key/cert (--cert-file, --key-file) must be provided for client url ${tlsUrls[0].url} with HTTPS scheme`,
    );
  }
  return loadTls(config, logger, {
    side: 'client',
    urls: tlsUrls,
    certFile: ['--cert-file', config.certFile],
    keyFile: ['--key-file', config.keyFile],
    caFile: ['--trusted-ca-file', config.trustedCaFile],
    crlFile: ['--client-crl-file', config.clientCrlFile],
    clientCertAuth: ['--client-cert-auth', config.clientCertAuth],
    autoTls: config.autoTls,
    allowedCn: '',
    allowedHostname: config.clientCertAllowedHostname,
  });
}

/**
 * The peer TLS material (--peer-cert-file, ..., --peer-auto-tls): served on https:// peer
 * listeners and presented to members with https:// peer URLs. An https:// listener without it
 * stops the member with etcd's message.
 */
export async function loadPeerTls(config: CairnConfig, logger: Logger): Promise<TlsMaterial | undefined> {
  const tlsUrls = config.listenPeerUrls.filter((u) => u.scheme === 'https');
  const given = (config.peerCertFile !== '' && config.peerKeyFile !== '') || config.peerAutoTls;
  if (!given) {
    if (tlsUrls.length > 0)
      throw new Error(
        `cannot listen on TLS for ${tlsUrls[0].host}:${tlsUrls[0].port}: KeyFile and CertFile are not presented`,
      );
    return undefined;
  }
  if (tlsUrls.length === 0 && !config.peerAutoTls)
    logger.warn('scheme is HTTP while key and cert files are present; ignoring key and cert files', {
      'peer-urls': config.listenPeerUrls.map((u) => u.url),
    });
  if (config.peerCertAllowedCn !== '' && config.peerCertAllowedHostname !== '') {
    throw new Error(
      `AllowedCN and AllowedHostname are mutually exclusive (cn=${JSON.stringify(config.peerCertAllowedCn)}, hostname=${JSON.stringify(config.peerCertAllowedHostname)})`,
    );
  }
  return loadTls(config, logger, {
    side: 'peer',
    urls: config.listenPeerUrls,
    certFile: ['--peer-cert-file', config.peerCertFile],
    keyFile: ['--peer-key-file', config.peerKeyFile],
    caFile: ['--peer-trusted-ca-file', config.peerTrustedCaFile],
    crlFile: ['--peer-crl-file', config.peerCrlFile],
    clientCertAuth: ['--peer-client-cert-auth', config.peerClientCertAuth],
    autoTls: config.peerAutoTls,
    allowedCn: config.peerCertAllowedCn,
    allowedHostname: config.peerCertAllowedHostname,
  });
}

async function loadTls(config: CairnConfig, logger: Logger, f: TlsFlags): Promise<TlsMaterial> {
  const [authFlag, clientCertAuth] = f.clientCertAuth;
  if (clientCertAuth && f.caFile[1] === '')
    throw new Error(`${authFlag} needs ${f.caFile[0]}: the CA that signs ${f.side} certificates`);
  let cert: Buffer;
  let key: Buffer;
  let selfSigned = false;
  if (f.certFile[1] !== '' && f.keyFile[1] !== '') {
    cert = readPem(...f.certFile);
    key = readPem(...f.keyFile);
    if (f.autoTls) logger.warn(`ignoring ${f.side} auto TLS since certs given`);
  } else {
    const dir = join(config.dataDir, 'fixtures', f.side);
    ({ cert, key } = await autoTlsFiles(
      dir,
      f.urls.map((u) => u.host),
      f.side,
    ));
    selfSigned = true;
    logger.warn(
      `automatically generated a self-signed ${f.side} certificate (--${f.side === 'peer' ? 'peer-' : ''}auto-tls)`,
      { dir },
    );
  }
  const ca = f.caFile[1] !== '' ? readPem(...f.caFile) : undefined;
  const material: TlsMaterial = {
    cert,
    key,
    ca,
    crl: f.crlFile[1] !== '' ? readCrl(...f.crlFile) : undefined,
    clientCertAuth: clientCertAuth || ca !== undefined,
    ciphers: opensslCiphers(config.cipherSuites),
    allowedCn: f.allowedCn || undefined,
    allowedHostname: f.allowedHostname || undefined,
    selfSigned,
  };
  try {
    createSecureContext({ cert, key, ca, crl: material.crl, ciphers: material.ciphers });
  } catch (err) {
    const what = `${f.side} TLS certificate, key, CA, CRL or --cipher-suites`;
    throw new Error(`invalid ${what}: ${(err as Error).message}`, { cause: err });
  }
  return material;
}

function readFile(flag: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new Error(`cannot read ${flag} ${path}: ${(err as Error).message}`, { cause: err });
  }
}

function readPem(flag: string, path: string): Buffer {
  const data = readFile(flag, path);
  if (!data.toString('latin1').includes('-----BEGIN ')) throw new Error(`${flag} ${path} is not a PEM file`);
  return data;
}

/** A CRL in PEM, or in DER as etcd also takes it (Node wants PEM). */
function readCrl(flag: string, path: string): Buffer {
  const data = readFile(flag, path);
  if (data.toString('latin1').includes('-----BEGIN X509 CRL-----')) return data;
  const lines = data.toString('base64').match(/.{1,64}/g) ?? [];
  return Buffer.from(`-----BEGIN X509 CRL-----\n${lines.join('\n')}\n-----END X509 CRL-----\n`);
}

/** etcd's SelfCert: reuses the certificate in `dir` if there is one, or makes a new one. */
async function autoTlsFiles(
  dir: string,
  hosts: string[],
  side: 'client' | 'peer',
): Promise<{ cert: Buffer; key: Buffer }> {
  const certPath = join(dir, 'cert.pem');
  const keyPath = join(dir, 'key.pem');
  if (existsSync(certPath) && existsSync(keyPath))
    return { cert: readFileSync(certPath), key: readFileSync(keyPath) };
  const altNames = [...new Set(hosts)].map((h) =>
    isIP(h) ? { type: 7 as const, ip: h } : { type: 2 as const, value: h },
  );
  const pems = await selfsigned.generate([{ name: 'organizationName', value: 'cairn' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notAfterDate: new Date(Date.now() + AUTO_TLS_DAYS * 86_400_000),
    extensions: [
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      // A member's peer certificate also authenticates it when it connects out, as etcd's does.
      { name: 'extKeyUsage', serverAuth: true, clientAuth: side === 'peer' },
      { name: 'subjectAltName', altNames },
    ],
  });
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeFileSync(certPath, pems.cert, { mode: 0o600 });
  writeFileSync(keyPath, pems.private, { mode: 0o600 });
  return { cert: Buffer.from(pems.cert), key: Buffer.from(pems.private) };
}
