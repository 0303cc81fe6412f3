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
// While the code loads, a supervisor that dies (killed, so that it could not stop this
// worker) ends the worker too: runWorker's own handler comes only after the import, which
// may never finish. The channel is unref'd so that the handler alone does not keep a
// worker alive whose code leaves nothing to run (an unsettled top-level await still fails
// it at once).
const orphaned = () => process.exit(0);
process.once('disconnect', orphaned);
// Gone already, while this module itself loaded: the event has passed.
if (!process.connected) orphaned();
process.channel?.unref();
let definition: WorkerDefinition;
try {
  const loaded = (await import(config.workerModule)) as Record<string, unknown>;
  definition = definitionFromModule(loaded, config.workerModule);
} catch (error) {
  definition = await failStart(error);
}
// From here runWorker's handler decides: a serving worker finishes its connection.
process.off('disconnect', orphaned);
process.channel?.ref();
await runWorker(definition, config);
