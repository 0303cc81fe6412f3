/**
 * The entry of a worker process started for a `workerModule`: load it, then serve. Code
 * that cannot load (a missing module, an error at import, no worker definition) is
 * reported to the supervisor, which says so once, instead of a stack per crashed worker.
 *
 * @module
 */
import { workerConfig } from './ipc.js';
import { definitionFromModule, type WorkerDefinition } from './worker-definition.js';
import { failStart, runWorker } from './worker-runtime.js';

const config = workerConfig();
if (!config?.workerModule) {
  process.stderr.write('taskpool worker-main: started without a worker configuration\n');
  process.exit(2);
}
let definition: WorkerDefinition;
try {
  const loaded = (await import(config.workerModule)) as Record<string, unknown>;
  definition = definitionFromModule(loaded, config.workerModule);
} catch (error) {
  definition = await failStart(error);
}
await runWorker(definition, config);
