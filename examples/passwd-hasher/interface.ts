/** The hasher's interface: shared by the worker and the client, as in the original synopsis. */
import { defineInterface } from '@taskpool/protocol';
import { z } from 'zod';

export const hasher = defineInterface({
  hash: { args: z.tuple([z.string()]), result: z.string() },
  verify: { args: z.tuple([z.string(), z.string()]), result: z.boolean() },
});
