/**
 * TLS certificates made at test time with openssl, never committed: a CA, a server
 * certificate for 127.0.0.1 and localhost, two client certificates (`CN=billing,O=acme`
 * and `CN=intern`), and a second CA with a server certificate of its own (a renewal).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** PEM texts. */
export interface TestCertificates {
  ca: string;
  otherCa: string;
  serverKey: string;
  serverCert: string;
  billingKey: string;
  billingCert: string;
  internKey: string;
  internCert: string;
  /** A self-signed client certificate claiming `CN=billing,O=acme`: signed by no CA. */
  rogueKey: string;
  rogueCert: string;
  /** A server certificate for 127.0.0.1 signed by `otherCa`. */
  otherServerKey: string;
  otherServerCert: string;
}

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];

function selfSigned(dir: string, name: string, subject: string): void {
  openssl(dir, [
    'req',
    '-x509',
    ...EC,
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.crt`,
    '-days',
    '2',
    '-subj',
    subject,
  ]);
}

function signed(dir: string, name: string, subject: string, extensions?: string, ca = 'ca'): void {
  openssl(dir, ['req', ...EC, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', subject]);
  const args = [
    'x509',
    '-req',
    '-in',
    `${name}.csr`,
    '-CA',
    `${ca}.crt`,
    '-CAkey',
    `${ca}.key`,
    '-CAcreateserial',
    '-out',
    `${name}.crt`,
    '-days',
    '2',
  ];
  if (extensions !== undefined) {
    writeFileSync(join(dir, `${name}.ext`), extensions);
    args.push('-extfile', `${name}.ext`);
  }
  openssl(dir, args);
}

/** Makes a fresh set (about a tenth of a second). */
export function makeCertificates(): TestCertificates {
  const dir = mkdtempSync(join(tmpdir(), 'taskpool-certs-'));
  try {
    selfSigned(dir, 'ca', '/CN=taskpool-test-ca');
    selfSigned(dir, 'other-ca', '/CN=taskpool-other-ca');
    selfSigned(dir, 'rogue', '/CN=billing/O=acme');
    signed(dir, 'server', '/CN=localhost', 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
    signed(dir, 'billing', '/CN=billing/O=acme');
    signed(dir, 'intern', '/CN=intern');
    signed(dir, 'other-server', '/CN=localhost', 'subjectAltName=IP:127.0.0.1\n', 'other-ca');
    const read = (file: string) => readFileSync(join(dir, file), 'utf8');
    return {
      ca: read('ca.crt'),
      otherCa: read('other-ca.crt'),
      serverKey: read('server.key'),
      serverCert: read('server.crt'),
      billingKey: read('billing.key'),
      billingCert: read('billing.crt'),
      internKey: read('intern.key'),
      internCert: read('intern.crt'),
      rogueKey: read('rogue.key'),
      rogueCert: read('rogue.crt'),
      otherServerKey: read('other-server.key'),
      otherServerCert: read('other-server.crt'),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
