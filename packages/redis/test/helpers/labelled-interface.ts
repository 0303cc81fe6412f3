/**
 * The interface of the registered-server fixture, shared by the fixture and the tests
 * (the same definition gives the same interface hash). `labelled(variant)` makes one whose
 * hash differs, as another build of the service would.
 */
import { defineInterface } from '@taskpool/protocol';
import { z } from 'zod';

export function labelled(variant = 'a') {
  return defineInterface({
    /** Which server (its label) and worker process served the call. */
    whoami: { args: z.tuple([]), result: z.object({ label: z.string(), pid: z.number() }) },
    /** Answers after `ms` milliseconds. */
    sleep: { args: z.tuple([z.number()]), result: z.string() },
    ...(variant === 'a' ? {} : { [`only_${variant}`]: { args: z.tuple([]), result: z.null() } }),
  });
}
