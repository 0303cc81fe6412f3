/**
 * The entry of a worker process started for a `workerModule`: load it, then serve.
 *
 * @module
 */
import { workerConfig } from './ipc.js';
import { definitionFromModule } from './worker-definition.js';
import { runWorker } from './worker-runtime.js';

const config = workerConfig();
if (!config?.workerModule) {
  process.stderr.write('taskpool worker-main: started without a worker configuration\n');
  process.exit(2);
}
const loaded = (await import(config.workerModule)) as Record<string, unknown>;
await runWorker(definitionFromModule(loaded, config.workerModule), config);
