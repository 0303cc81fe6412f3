/**
 * The worker: bcrypt at cost 10 is ~60 ms of pure CPU per hash, exactly the kind of work
 * that must not run on a server's event loop.
 */
import { defineWorker } from '@taskpool/server';
import bcrypt from 'bcryptjs';
import { hasher } from './interface.js';

export default defineWorker({
  interface: hasher.implement({
    hash: (plaintext) => bcrypt.hashSync(plaintext, bcrypt.genSaltSync(10)),
    verify: (crypted, plaintext) => bcrypt.compareSync(plaintext, crypted),
  }),
});
