import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { createSecureContext } from 'node:tls';
import * as selfsigned from 'selfsigned';
import { ClientTls } from '../../../libs/api/src';
import { CairnConfig } from './config';
import { Logger } from './logging';

/** Days etcd's self-signed --auto-tls certificates are valid for. */
const AUTO_TLS_DAYS = 365;

/**
 * The client TLS material for https:// listeners, from --cert-file/--key-file/--trusted-ca-file
 * or generated at start by --auto-tls. Fails with the reason when a file is missing or invalid:
 * a listener asked to speak TLS never falls back to plain text.
 */
export async function loadClientTls(config: CairnConfig, logger: Logger): Promise<ClientTls | undefined> {
  const tlsUrls = config.listenClientUrls.filter((u) => u.scheme === 'https');
  const hasFiles = config.certFile !== '' || config.keyFile !== '';
  if (tlsUrls.length === 0) {
    if (hasFiles)
      logger.warn('scheme is HTTP while key and cert files are present; ignoring key and cert files', {
        'client-urls': config.listenClientUrls.map((u) => u.url),
      });
    return undefined;
  }
  if (config.clientCertAuth && config.trustedCaFile === '')
    throw new Error('--client-cert-auth needs --trusted-ca-file: the CA that signs client certificates');
  let cert: Buffer;
  let key: Buffer;
  if (config.certFile !== '' && config.keyFile !== '') {
    cert = readPem('--cert-file', config.certFile);
    key = readPem('--key-file', config.keyFile);
  } else if (config.autoTls) {
    ({ cert, key } = await autoTlsFiles(
      join(config.dataDir, 'fixtures', 'client'),
      tlsUrls.map((u) => u.host),
    ));
    logger.warn('automatically generated a self-signed client certificate (--auto-tls)', {
      dir: join(config.dataDir, 'fixtures', 'client'),
    });
  } else {
    throw new Error(
      `TLS key/cert (--cert-file, --key-file) must be provided for client url ${tlsUrls[0].url} with HTTPS scheme`,
    );
  }
  const ca = config.trustedCaFile !== '' ? readPem('--trusted-ca-file', config.trustedCaFile) : undefined;
  try {
    createSecureContext({ cert, key, ca });
  } catch (err) {
    throw new Error(`invalid client TLS certificate, key or CA: ${(err as Error).message}`, { cause: err });
  }
  return { cert, key, ca, clientCertAuth: config.clientCertAuth };
}

function readPem(flag: string, path: string): Buffer {
  let data: Buffer;
  try {
    data = readFileSync(path);
  } catch (err) {
    throw new Error(`cannot read ${flag} ${path}: ${(err as Error).message}`, { cause: err });
  }
  if (!data.toString('latin1').includes('-----BEGIN ')) throw new Error(`${flag} ${path} is not a PEM file`);
  return data;
}

/** etcd's SelfCert: reuses the certificate in `dir` if there is one, or makes a new one. */
async function autoTlsFiles(dir: string, hosts: string[]): Promise<{ cert: Buffer; key: Buffer }> {
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
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames },
    ],
  });
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeFileSync(certPath, pems.cert, { mode: 0o600 });
  writeFileSync(keyPath, pems.private, { mode: 0o600 });
  return { cert: Buffer.from(pems.cert), key: Buffer.from(pems.private) };
}
