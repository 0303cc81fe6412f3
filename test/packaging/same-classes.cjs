// Run by run.mjs in the app where the tarballs are installed. Loaded with require() and with
// import(), every package gives the same objects (one copy of each module, so instanceof
// holds across the two), and each re-exports every error class, isTaskpoolError and
// ERROR_CODES of @taskpool/protocol, as docs/errors.md says.
'use strict';
const assert = require('node:assert/strict');

async function main() {
  const protocol = require('@taskpool/protocol');
  const errorClasses = Object.keys(protocol).filter((name) => {
    const value = protocol[name];
    return (
      typeof value === 'function' &&
      (value === protocol.TaskpoolError || value.prototype instanceof protocol.TaskpoolError)
    );
  });
  for (const name of ['TaskpoolError', 'TimeoutError', 'InvalidOptionError', 'JobFailedError']) {
    assert.ok(errorClasses.includes(name), `@taskpool/protocol exports no ${name}`);
  }
  const shared = [...errorClasses, 'isTaskpoolError', 'ERROR_CODES'];
  for (const name of [
    '@taskpool/protocol',
    '@taskpool/client',
    '@taskpool/server',
    '@taskpool/redis',
  ]) {
    const required = require(name);
    const imported = await import(name);
    for (const key of shared) {
      assert.ok(key in required, `require('${name}') has no ${key}`);
      assert.equal(required[key], protocol[key], `require('${name}').${key} is another copy`);
      assert.equal(imported[key], protocol[key], `import('${name}').${key} is another copy`);
    }
  }

  // An error thrown by a client loaded with import() is an instance of the classes require()
  // gives, of every package.
  const { createClient } = await import('@taskpool/client');
  const client = createClient({ connect: 'unix:/nonexistent/taskpool.sock', minWorkers: 0 });
  await client.close();
  const thrown = await client.checkout().then(
    () => assert.fail('checkout() on a closed client resolved'),
    (error) => error,
  );
  assert.ok(thrown instanceof require('@taskpool/client').ClosedError, 'not a ClosedError');
  assert.ok(thrown instanceof require('@taskpool/server').TaskpoolError, 'not a TaskpoolError');
  assert.equal(thrown.code, 'CLOSED');

  // The wire schemas entry loads zod, the app's own copy.
  const { messageSchema } = require('@taskpool/protocol/schemas');
  assert.equal(typeof messageSchema.safeParse, 'function');

  console.log(`${shared.length} exports are the same objects through require() and import()`);
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
