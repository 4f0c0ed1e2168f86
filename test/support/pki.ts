// A throwaway PKI for TLS tests, made with the openssl CLI in a temp directory: CAs, member
// and client certificates (chosen CN and IP SANs), and CRLs revoking some of them.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface IssuedCert {
  cert: string;
  key: string;
}

export interface CertSpec {
  cn: string;
  /** IP SANs (a server or member certificate must name the address it is reached at). */
  ips?: string[];
  dns?: string[];
}

const openssl = (cwd: string, args: string[]) => execFileSync('openssl', args, { cwd, stdio: 'pipe' });
const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];

/** One CA: issues certificates and revokes them into its CRL. */
export class TestCa {
  readonly cert: string;
  private readonly key: string;
  private serial = 1;

  constructor(
    private readonly dir: string,
    readonly name: string,
  ) {
    this.cert = join(dir, `${name}.ca.pem`);
    this.key = join(dir, `${name}.ca-key.pem`);
    // prettier-ignore
    openssl(dir, [
      'req', '-x509', ...EC, '-sha256', '-days', '3650', '-subj', `/CN=${name}`,
      '-keyout', this.key, '-out', this.cert,
      '-addext', 'basicConstraints=critical,CA:TRUE',
      '-addext', 'keyUsage=critical,keyCertSign,cRLSign,digitalSignature',
    ]);
    // What `openssl ca` needs to keep track of revocations.
    writeFileSync(join(dir, `${name}.index`), '');
    writeFileSync(join(dir, `${name}.crlnumber`), '01\n');
    writeFileSync(
      join(dir, `${name}.cnf`),
      [
        '[ca]',
        'default_ca = this',
        '[this]',
        `database = ${join(dir, `${name}.index`)}`,
        `crlnumber = ${join(dir, `${name}.crlnumber`)}`,
        'default_md = sha256',
        'default_crl_days = 3650',
        '',
      ].join('\n'),
    );
  }

  /** A certificate for both server and client use (as etcd's member certificates are). */
  issue(file: string, spec: CertSpec): IssuedCert {
    // Named after the CA too: two CAs may issue certificates of the same name.
    const base = join(this.dir, `${this.name}.${file}`);
    const [cert, key, csr, ext] = [`${base}.pem`, `${base}-key.pem`, `${base}.csr`, `${base}.ext`];
    const sans = [...(spec.ips ?? []).map((ip) => `IP:${ip}`), ...(spec.dns ?? []).map((d) => `DNS:${d}`)];
    writeFileSync(
      ext,
      [
        'basicConstraints = CA:FALSE',
        'keyUsage = critical,digitalSignature,keyEncipherment',
        'extendedKeyUsage = serverAuth,clientAuth',
        ...(sans.length > 0 ? [`subjectAltName = ${sans.join(',')}`] : []),
        '',
      ].join('\n'),
    );
    openssl(this.dir, ['req', '-new', ...EC, '-subj', `/CN=${spec.cn}`, '-keyout', key, '-out', csr]);
    // prettier-ignore
    openssl(this.dir, [
      'x509', '-req', '-in', csr, '-CA', this.cert, '-CAkey', this.key, '-set_serial', String(1000 + this.serial++),
      '-days', '3650', '-sha256', '-extfile', ext, '-out', cert,
    ]);
    return { cert, key };
  }

  /** Adds `cert` to this CA's revocations. */
  revoke(cert: string): void {
    openssl(this.dir, [
      'ca',
      '-config',
      `${this.name}.cnf`,
      '-cert',
      this.cert,
      '-keyfile',
      this.key,
      '-revoke',
      cert,
    ]);
  }

  /** A CRL (PEM) listing every certificate revoked so far. */
  crl(file: string): string {
    const out = join(this.dir, `${this.name}.${file}.pem`);
    // prettier-ignore
    openssl(this.dir, ['ca', '-config', `${this.name}.cnf`, '-cert', this.cert, '-keyfile', this.key, '-gencrl', '-out', out]);
    return out;
  }
}

/** A temp directory of CAs; `remove()` deletes it all. */
export class TestPki {
  readonly dir = mkdtempSync(join(tmpdir(), 'cairn-pki-'));

  ca(name: string): TestCa {
    return new TestCa(this.dir, name);
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
