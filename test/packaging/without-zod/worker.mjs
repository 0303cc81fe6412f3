// A worker serving a plain record of handlers: no defineInterface, so no zod.
import { defineWorker } from '@taskpool/server';

export default defineWorker({ interface: { add: (a, b) => a + b } });
