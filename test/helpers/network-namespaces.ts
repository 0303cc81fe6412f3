/**
 * Network namespaces for tests that need servers on machines of their own: each namespace
 * has one veth link to this one, `10.211.N.2` inside and `10.211.N.1` here, so that a
 * process run in it (`ip netns exec`) is reachable at its own address and reaches this
 * side at the other. Only root can make them, and only where `ip netns` works: tests ask
 * `namespacesAvailable()` first. A namespace is removed by the test that made it, else
 * when its process exits normally; one left by a process that was killed (a test runner
 * stops its workers with SIGTERM) is removed by the next run that makes one.
 */
import { execFileSync } from 'node:child_process';
import { isAlive } from './processes.js';

/** One namespace and its link to this one. */
export interface NetworkNamespace {
  /** Its name, for `ip netns exec NAME …`. */
  readonly name: string;
  /** Its address, inside it: where a server in it listens. */
  readonly address: string;
  /** This side's address of the link: where a process in it reaches this side. */
  readonly hostAddress: string;
  /** The command line that runs `argv` inside it. */
  command(argv: readonly string[]): { file: string; args: string[] };
  remove(): void;
}

const made = new Set<NetworkNamespace>();
process.once('exit', () => {
  for (const namespace of made) namespace.remove();
});

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: 'ignore' });
}

function ipOutput(...args: string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8' });
}

/**
 * Removes the namespaces of test processes that are gone (named `tp-PID-N`); deleting a
 * namespace deletes its end of the link, and with it the whole link.
 */
function removeLeftovers(): void {
  for (const line of ipOutput('netns', 'list').split('\n')) {
    const match = /^(tp-(\d+)-\d+)\b/.exec(line);
    if (!match || isAlive(Number(match[2]))) continue;
    try {
      ip('netns', 'del', match[1] as string);
    } catch {
      // Removed meanwhile.
    }
  }
}

let available: boolean | undefined;

/** True when this process may make network namespaces (root, and `ip netns` works). */
export function namespacesAvailable(): boolean {
  if (available !== undefined) return available;
  available = false;
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return available;
  const probe = `tp-probe-${process.pid}`;
  try {
    ip('netns', 'add', probe);
    ip('netns', 'del', probe);
    available = true;
  } catch {
    // No `ip`, or namespaces are not allowed here (a container without the capability).
  }
  return available;
}

/** Where this process looks for a free subnet next. */
let nextSubnet = 1 + (process.pid % 200);

/** A `10.211.N.0/24` no interface of this machine has an address in. */
function freeSubnet(): number {
  const used = ipOutput('-o', 'addr', 'show');
  for (let tries = 0; tries < 254; tries++) {
    const subnet = 1 + ((nextSubnet++ - 1) % 254);
    if (!used.includes(`10.211.${subnet}.`)) return subnet;
  }
  throw new Error('no free 10.211.N.0/24 subnet for a network namespace');
}

/** Makes a namespace with its link up and addressed. */
export function createNamespace(): NetworkNamespace {
  removeLeftovers();
  const subnet = freeSubnet();
  // Interface names are at most 15 characters.
  const tag = `${process.pid % 100_000}x${subnet}`;
  const name = `tp-${process.pid}-${subnet}`;
  const outside = `tph${tag}`;
  const inside = `tpn${tag}`;
  const hostAddress = `10.211.${subnet}.1`;
  const address = `10.211.${subnet}.2`;
  let removed = false;
  const namespace: NetworkNamespace = {
    name,
    address,
    hostAddress,
    command: (argv) => ({ file: 'ip', args: ['netns', 'exec', name, ...argv] }),
    remove() {
      if (removed) return;
      removed = true;
      made.delete(namespace);
      for (const args of [
        ['link', 'del', outside],
        ['netns', 'del', name],
      ]) {
        try {
          ip(...args);
        } catch {
          // Gone already (deleting one end of a veth pair deletes the other).
        }
      }
    },
  };
  made.add(namespace);
  try {
    ip('netns', 'add', name);
    ip('link', 'add', outside, 'type', 'veth', 'peer', 'name', inside);
    ip('link', 'set', inside, 'netns', name);
    ip('addr', 'add', `${hostAddress}/24`, 'dev', outside);
    ip('link', 'set', outside, 'up');
    ip('netns', 'exec', name, 'ip', 'addr', 'add', `${address}/24`, 'dev', inside);
    ip('netns', 'exec', name, 'ip', 'link', 'set', inside, 'up');
    ip('netns', 'exec', name, 'ip', 'link', 'set', 'lo', 'up');
  } catch (error) {
    namespace.remove();
    throw error;
  }
  return namespace;
}
