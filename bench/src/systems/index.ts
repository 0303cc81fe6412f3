/** Every system the bench knows, in table order. taskpool's are run only when available. */
import { piscinaSystem } from './piscina.js';
import { rawSystems } from './raw.js';
import type { System } from './system.js';
import { taskpoolSystems } from './taskpool.js';
import { taskpoolServersSystems } from './taskpool-servers.js';
import { tinypoolSystem } from './tinypool.js';
import { workerpoolSystem } from './workerpool.js';

export const allSystems: readonly System[] = [
  ...rawSystems,
  piscinaSystem,
  tinypoolSystem,
  workerpoolSystem,
  ...taskpoolSystems,
  ...taskpoolServersSystems,
];

export function findSystem(name: string): System | undefined {
  return allSystems.find((system) => system.name === name);
}
