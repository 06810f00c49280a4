// kube-apiserver stand-in entry point: `kube-apiserver [flags]` with the v1.34 flag set (see
// apiserver.ts for what it serves). Flags it does not act on are accepted and ignored.
import { readFileSync } from 'node:fs';
import { restartWithoutTypeStripper } from './node-cache.ts';
import { parseCommandLine } from './flags.ts';
import { ApiServer } from './apiserver.ts';
import { klog, structured } from './klog.ts';
import { kubeVersion } from './version.ts';
import { parseGoDuration } from './duration.ts';

restartWithoutTypeStripper();

const flags = parseCommandLine('kube-apiserver', process.argv.slice(2));

// The validation errors kube-apiserver reports for a missing storage or service-account setup.
const errors: string[] = [];
const etcdServers = flags.list('etcd-servers');
if (etcdServers.length === 0) errors.push('--etcd-servers must be specified');
const issuers = flags.list('service-account-issuer');
if (issuers.length === 0) errors.push('service-account-issuer is a required flag');
if (!flags.get('service-account-signing-key-file') || issuers.length === 0) {
  errors.push('--service-account-signing-key-file and --service-account-issuer are required flags');
}
if (!flags.get('tls-cert-file') || !flags.get('tls-private-key-file')) {
  errors.push(
    'the kube-apiserver stand-in needs --tls-cert-file and --tls-private-key-file (it cannot generate a self-signed certificate)',
  );
}
if (errors.length > 0) {
  process.stderr.write(`Error: ${errors.length === 1 ? errors[0] : `[${errors.join(', ')}]`}\n`);
  process.exit(1);
}

function readFlagFile(flag: string): string | undefined {
  const path = flags.get(flag);
  if (!path) return undefined;
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    klog.error(
      'run.go:72',
      structured('command failed', {
        err: `open ${path}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (err as Error).message}`,
      }),
    );
    process.exit(1);
  }
}

const timeoutMs = (flag: string, fallback: number): number => {
  const v = flags.get(flag);
  const ms = v === undefined ? undefined : parseGoDuration(v);
  return ms ?? fallback;
};

klog.info('server.go:163', `Version: ${kubeVersion().gitVersion}`);
const caFile = readFlagFile('etcd-cafile');
const certFile = readFlagFile('etcd-certfile');
const keyFile = readFlagFile('etcd-keyfile');
const server = new ApiServer({
  bindAddress: flags.string('bind-address', '0.0.0.0') || '0.0.0.0',
  securePort: Number(flags.string('secure-port', '6443')),
  ...(flags.get('advertise-address') ? { advertiseAddress: flags.get('advertise-address')! } : {}),
  tlsCert: readFlagFile('tls-cert-file')!,
  tlsKey: readFlagFile('tls-private-key-file')!,
  ...(flags.get('client-ca-file') ? { clientCa: readFlagFile('client-ca-file')! } : {}),
  anonymousAuth: flags.bool('anonymous-auth', true),
  etcdServers,
  etcdTls: { ...(caFile ? { ca: caFile } : {}), ...(certFile ? { cert: certFile } : {}), ...(keyFile ? { key: keyFile } : {}) },
  etcdPrefix: flags.string('etcd-prefix', '/registry'),
  etcdHealthTimeoutMs: timeoutMs('etcd-healthcheck-timeout', 2000),
  identityRenewMs: 10_000,
});

try {
  await server.start();
} catch (err) {
  const e = err as NodeJS.ErrnoException;
  const addr = `${flags.string('bind-address', '0.0.0.0')}:${flags.string('secure-port', '6443')}`;
  klog.error(
    'run.go:72',
    structured('command failed', {
      err: `failed to create listener: failed to listen on ${addr}: listen tcp ${addr}: bind: ${e.code === 'EADDRINUSE' ? 'address already in use' : e.message}`,
    }),
  );
  process.exit(1);
}

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    klog.info('genericapiserver.go:541', `"[graceful-termination] shutdown event" name="ShutdownInitiated"`);
    void server.stop().then(() => process.exit(0));
  });
}
