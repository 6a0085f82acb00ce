/**
 * HTTPS from LEDGER_TLS_CERT_FILE and LEDGER_TLS_KEY_FILE, with a self-signed certificate made
 * here by openssl: TLS 1.2 and 1.3 are served, older versions refused.
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import https from 'node:https';
import path from 'node:path';
import tls from 'node:tls';
import { promisify } from 'node:util';
import { ledgerEnv, type LedgerEnv } from '../support/ledgerFixture';
import { type ServerProcess, startServerProcess } from '../support/serverProcess';

const run = promisify(execFile);

function httpsRequest(url: string, ca: Buffer, body?: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request(url, { ca, method: body ? 'POST' : 'GET', headers: body ? { 'content-type': 'application/json' } : {} }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Polls /healthz over HTTPS until 200: the server answers before its database is open. */
async function waitHealthyTls(url: string, ca: Buffer, server: ServerProcess): Promise<void> {
  for (let attempt = 0; attempt < 600; attempt++) {
    if (server.child.exitCode !== null) throw new Error(`server exited: ${server.output()}`);
    const status = await httpsRequest(`${url}/healthz`, ca).then(
      (r) => r.status,
      () => 0,
    );
    if (status === 200) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('server not healthy over HTTPS');
}

function handshake(port: number, ca: Buffer, options: tls.ConnectionOptions): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, ca, servername: 'localhost', ...options }, () => {
      const protocol = socket.getProtocol() ?? 'unknown';
      socket.end();
      resolve(protocol);
    });
    socket.on('error', reject);
  });
}

describe('HTTPS', () => {
  let le: LedgerEnv;
  let server: ServerProcess | undefined;
  afterAll(async () => {
    await server?.stop();
    await le?.dispose();
  });

  it('serves GraphQL over TLS 1.2+ with the configured certificate and refuses older versions', async () => {
    le = await ledgerEnv('tls');
    const cert = path.join(le.dataDir, 'cert.pem');
    const key = path.join(le.dataDir, 'key.pem');
    await run('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1',
      '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost', '-keyout', key, '-out', cert,
    ]);
    const ca = await readFile(cert);
    server = await startServerProcess({ ...le.env, LEDGER_TLS_CERT_FILE: cert, LEDGER_TLS_KEY_FILE: key });
    expect(server.url).toMatch(/^https:\/\//);
    await waitHealthyTls(server.url, ca, server);

    const answer = await httpsRequest(`${server.url}/graphql`, ca, JSON.stringify({ query: '{ serverInfo { name } }' }));
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.text)).toEqual({ data: { serverInfo: { name: 'audit-ledger' } } });

    const port = Number(new URL(server.url).port);
    expect(await handshake(port, ca, { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2' })).toBe('TLSv1.2');
    expect(await handshake(port, ca, { minVersion: 'TLSv1.3' })).toBe('TLSv1.3');
    // The client must be allowed to offer TLS 1.1 (OpenSSL 3 forbids it at its default level).
    await expect(handshake(port, ca, { minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' })).rejects.toThrow();
    // Plain HTTP on the TLS port gets no HTTP answer.
    await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
  });

  it('refuses a certificate without its key at start', async () => {
    const env = await ledgerEnv('tlsconfig');
    try {
      const bad = await startServerProcess({ ...env.env, LEDGER_TLS_CERT_FILE: '/nonexistent/cert.pem' });
      expect(await bad.exited).toBe(2);
      expect(bad.output()).toContain('LEDGER_TLS_CERT_FILE and LEDGER_TLS_KEY_FILE must be set together');
    } finally {
      await env.dispose();
    }
  });
});
