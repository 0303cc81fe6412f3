/** The interface the typed tests use, on both sides. */
import { defineInterface } from '@taskpool/protocol';
import { z } from 'zod';

export const hasher = defineInterface({
  hash: { args: z.tuple([z.string()]), result: z.string() },
  verify: { args: z.tuple([z.string(), z.string()]), result: z.boolean() },
  lying: { args: z.tuple([]), result: z.number() },
});
