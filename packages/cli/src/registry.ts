/**
 * The registry options `serve` and `status` share: `--service NAME --redis URL
 * [--prefix PREFIX]` name the servers of a service in a Redis registry (`redisRegistry`).
 */
import type { ServiceRegistry } from '@taskpool/protocol';
import { redisRegistry } from '@taskpool/redis';
import { UsageError } from './usage.js';

/** The string options that name a registry. */
export const REGISTRY_OPTIONS = ['service', 'redis', 'prefix'] as const;

type RegistryValues = Partial<Record<(typeof REGISTRY_OPTIONS)[number], string>>;

/** The registry the options name, or undefined when none of them is given. */
export function registryOf(values: RegistryValues): ServiceRegistry | undefined {
  const { service, redis, prefix } = values;
  if (service === undefined && redis === undefined && prefix === undefined) return undefined;
  if (service === undefined || redis === undefined) {
    throw new UsageError('--service NAME and --redis URL go together');
  }
  try {
    return redisRegistry({ redis, service, ...(prefix !== undefined && { prefix }) });
  } catch (error) {
    // An option the registry refuses is a usage error: said with the help, exit 2.
    throw new UsageError((error as Error).message);
  }
}
