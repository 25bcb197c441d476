/**
 * TLS material for the HTTPS listeners: loading with errors that name the
 * file, and reloading without a restart (SIGHUP, or the files changing on
 * disk, as when acme.sh renews). A reload that fails keeps the old
 * certificate; connections already open are never touched.
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createSecureContext, type Server as TlsServer } from 'node:tls';
import { ConfigError } from '../runtime/config.js';
import { FileWatch } from '../runtime/file-watch.js';
import type { Logger } from '../runtime/log.js';

export interface TlsMaterial {
  cert: Buffer;
  key: Buffer;
  /** The certificate's not-after, Unix seconds (for the expiry metric). */
  notAfter: number;
}

function readPem(flag: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new ConfigError(flag, `cannot read ${path} (${code})`);
  }
}

/** Reads and checks the pair; throws ConfigError naming the bad file. */
export function loadTlsMaterial(certPath: string, keyPath: string): TlsMaterial {
  const cert = readPem('--cert', certPath);
  const key = readPem('--key', keyPath);
  if (!cert.includes('-----BEGIN CERTIFICATE-----')) throw new ConfigError('--cert', `${certPath} holds no PEM certificate`);
  if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(key.toString('latin1'))) {
    throw new ConfigError('--key', `${keyPath} holds no PEM private key`);
  }
  try {
    createSecureContext({ cert, key });
  } catch (err) {
    throw new ConfigError('--cert', `${certPath} and ${keyPath} do not make a usable pair: ${(err as Error).message}`);
  }
  return { cert, key, notAfter: Math.floor(new Date(new X509Certificate(cert).validTo).getTime() / 1000) };
}

export class CertificateReloader {
  private readonly certPath: string;
  private readonly keyPath: string;
  private readonly servers: TlsServer[] = [];
  /** Not-after of the certificate being served, Unix seconds (0: none loaded by a reload yet). */
  notAfter = 0;
  private readonly logger: Logger;
  // acme.sh writes the certificate and the key one after the other: wait a second for both.
  private readonly files: FileWatch;

  constructor(certPath: string, keyPath: string, logger: Logger) {
    this.certPath = certPath;
    this.keyPath = keyPath;
    this.logger = logger;
    this.files = new FileWatch([certPath, keyPath], 1000, () => this.reload('file changed'));
  }

  /** Servers whose certificate this reloader keeps current. */
  add(server: TlsServer): void {
    this.servers.push(server);
  }

  /** Loads the files again; on success new TLS connections get them. Returns whether it worked. */
  reload(reason: string): boolean {
    let material: TlsMaterial;
    try {
      material = loadTlsMaterial(this.certPath, this.keyPath);
    } catch (err) {
      this.logger.error({ reason, cert: this.certPath, key: this.keyPath, err: (err as Error).message }, 'certificate reload failed; keeping the current certificate');
      return false;
    }
    for (const server of this.servers) server.setSecureContext({ cert: material.cert, key: material.key });
    this.notAfter = material.notAfter;
    this.logger.info({ reason, cert: this.certPath }, 'certificate reloaded');
    return true;
  }

  /** Polls both files for changes. */
  watch(intervalMs: number): void {
    this.files.start(intervalMs);
  }

  stop(): void {
    this.files.stop();
  }
}
