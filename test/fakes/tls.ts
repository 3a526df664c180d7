import { generate } from 'selfsigned';

/** PEM certificate and its PKCS#8 private key. */
export interface TestCertificate {
  cert: string;
  key: string;
}

/**
 * A self-signed certificate for `127.0.0.1` (IP SAN), `::1` and `localhost`, valid from an hour ago for a week.
 *
 * It is its own CA (basicConstraints cA, keyCertSign) so that a process can trust it as a root through
 * `NODE_EXTRA_CA_CERTS` or `ca:`; it also carries clientAuth so a test can reuse it as an app's certificate
 * for `ClientCertificateCredential` (`certificate: cert + key`).
 */
export async function createTestCertificate(): Promise<TestCertificate> {
  const notBeforeDate = new Date(Date.now() - 60 * 60 * 1000);
  const notAfterDate = new Date(notBeforeDate.getTime() + 7 * 24 * 60 * 60 * 1000);
  const pems = await generate([{ name: 'commonName', value: 'usersync test localhost' }], {
    keyType: 'rsa',
    keySize: 2048,
    algorithm: 'sha256',
    notBeforeDate,
    notAfterDate,
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, keyCertSign: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true, clientAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 2, value: 'localhost' },
          { type: 7, ip: '127.0.0.1' },
          { type: 7, ip: '::1' },
        ],
      },
    ],
  });
  // selfsigned leaves the certificate without a final newline: `cert + key` would not be valid PEM.
  return { cert: withFinalNewline(pems.cert), key: withFinalNewline(pems.private) };
}

function withFinalNewline(pem: string): string {
  return pem.endsWith('\n') ? pem : `${pem}\n`;
}
