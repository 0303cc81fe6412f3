/**
 * `npm run bench [-- workload ...]`: runs the named workloads (all by default).
 */
import { printCodec, runCodec } from './codec.js';

const workloads: Record<string, () => Promise<void> | void> = {
  codec: () => printCodec(runCodec()),
};

const asked = process.argv.slice(2).filter((arg) => !arg.startsWith('-'));
const unknown = asked.filter((name) => !(name in workloads));
if (unknown.length > 0) {
  console.error(
    `unknown workload ${unknown.join(', ')}; expected one of ${Object.keys(workloads).join(', ')}`,
  );
  process.exit(2);
}
for (const name of asked.length > 0 ? asked : Object.keys(workloads)) await workloads[name]?.();
