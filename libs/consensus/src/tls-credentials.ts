import * as grpc from '@grpc/grpc-js';
import { X509Certificate } from 'node:crypto';
import { SecureServerOptions } from 'node:http2';
import { isIP } from 'node:net';
import { PeerCertificate, SecureContextOptions, checkServerIdentity, createSecureContext } from 'node:tls';

/** The TLS settings of one side (client or peer) of a member, files already read and checked. */
export interface TlsMaterial {
  cert: Buffer;
  key: Buffer;
  /** CA bundle that signs the other side's certificates (system roots when absent). */
  ca?: Buffer;
  /** --client-crl-file / --peer-crl-file: certificates it revokes are refused. */
  crl?: Buffer;
  /**
   * Refuse callers without a certificate signed by `ca`: --client-cert-auth or
   * --peer-client-cert-auth, or a trusted CA file alone (etcd requires certificates then too).
   */
  clientCertAuth: boolean;
  /** --cipher-suites as an OpenSSL list for TLS 1.2 (TLS 1.3 keeps its suites, as Go's do). */
  ciphers?: string;
  /** At most one of these: the other side's certificate must carry this CN, or be valid for this host. */
  allowedCn?: string;
  allowedHostname?: string;
  /** --auto-tls / --peer-auto-tls: self-signed, so outgoing connections verify nothing (as etcd). */
  selfSigned?: boolean;
}

/** etcd's words when a certificate fails --peer-cert-allowed-cn or an allowed hostname. */
export const CERT_AUTH_FAILED = 'client certificate authentication failed';

/** Why `cert` does not pass the allowed CN or hostname of `tls`; undefined when it does. */
export function certificateRefusal(
  tls: Pick<TlsMaterial, 'allowedCn' | 'allowedHostname'>,
  cert: PeerCertificate | undefined,
): string | undefined {
  if (!tls.allowedCn && !tls.allowedHostname) return undefined;
  if (!cert?.raw) return CERT_AUTH_FAILED;
  if (tls.allowedCn) {
    const cn = cert.subject?.CN;
    return (Array.isArray(cn) ? cn[0] : cn) === tls.allowedCn ? undefined : CERT_AUTH_FAILED;
  }
  // Go's VerifyHostname: IP SANs for an address, DNS SANs (no CN fallback) for a name.
  const x509 = new X509Certificate(cert.raw);
  const host = tls.allowedHostname!;
  const ok = isIP(host) ? x509.checkIP(host) : x509.checkHost(host, { subject: 'never' });
  return ok ? undefined : CERT_AUTH_FAILED;
}

/**
 * Server credentials carrying what grpc-js's createSsl cannot: the CRL, the cipher list, and
 * a gate refusing calls whose client certificate fails the allowed CN or hostname. Both option
 * sets go through grpc-js to http2.createSecureServer unchanged.
 */
class NodeTlsServerCredentials extends grpc.ServerCredentials {
  constructor(
    serverOptions: SecureServerOptions,
    contextOptions: SecureContextOptions,
    private readonly interceptors: grpc.ServerInterceptor[],
  ) {
    super(serverOptions, contextOptions);
  }

  override _getInterceptors(): grpc.ServerInterceptor[] {
    return this.interceptors;
  }

  _equals(other: grpc.ServerCredentials): boolean {
    return other === this;
  }
}

/** Credentials for a TLS listener; throws the reason when the material does not load. */
export function serverCredentials(tls: TlsMaterial): grpc.ServerCredentials {
  const context: SecureContextOptions = { cert: tls.cert, key: tls.key, ca: tls.ca, crl: tls.crl };
  if (tls.ciphers !== undefined) context.ciphers = tls.ciphers;
  createSecureContext(context); // fails here, at start, rather than on the first connection
  const gate = tls.clientCertAuth && (tls.allowedCn || tls.allowedHostname) ? [certificateGate(tls)] : [];
  return new NodeTlsServerCredentials(
    { requestCert: tls.clientCertAuth, rejectUnauthorized: tls.clientCertAuth },
    context,
    gate,
  );
}

/** Refuses every call on a connection whose verified client certificate fails `certificateRefusal`. */
function certificateGate(tls: TlsMaterial): grpc.ServerInterceptor {
  return (_method, call) =>
    new grpc.ServerInterceptingCall(call, {
      start: (next) =>
        next({
          onReceiveMetadata: (metadata, pass) => {
            const refused = certificateRefusal(tls, call.getAuthContext().sslPeerCertificate);
            if (refused) call.sendStatus({ code: grpc.status.UNAUTHENTICATED, details: refused });
            else pass(metadata);
          },
        }),
    });
}

/**
 * Credentials for outgoing connections to an https:// URL: present our certificate, verify the
 * other side against `ca` and the CRL (the host name and the allowed CN or hostname too), unless
 * it is self-signed auto TLS, where etcd verifies nothing. Without material: TLS with system
 * roots. etcd checks its CRL on listeners only; a revoked member then still talks through the
 * connections others open to it, so Cairn checks outgoing connections too.
 */
export function channelCredentials(tls: TlsMaterial | undefined): grpc.ChannelCredentials {
  if (!tls) return grpc.credentials.createSsl();
  const context = createSecureContext({
    cert: tls.cert,
    key: tls.key,
    ca: tls.ca,
    crl: tls.crl,
    ...(tls.ciphers !== undefined ? { ciphers: tls.ciphers } : {}),
  });
  if (tls.selfSigned) return grpc.credentials.createFromSecureContext(context, { rejectUnauthorized: false });
  return grpc.credentials.createFromSecureContext(context, {
    checkServerIdentity: (host, cert) => {
      const wrongHost = checkServerIdentity(host, cert);
      if (wrongHost) return wrongHost;
      const refused = certificateRefusal(tls, cert);
      return refused ? new Error(refused) : undefined;
    },
  });
}
