import { createQueue } from '@taskpool/redis';
import { expect, it } from 'vitest';
import { useRedis } from './helpers/redis-server.js';

it('debug', async () => {
  const redis = await useRedis();
  const options = {
    redis: redis.url,
    name: 'dbg',
    mode: 'reliable' as const,
    prefix: 'dbg',
    onError: (e: unknown) => console.log('ERR', e),
    blockTimeout: 1000,
  };
  const q = createQueue<number, number>(options);
  const w = createQueue<number, number>(options);
  w.process((job) => {
    console.log('handle', job.id);
    return job.data * 2;
  });
  const h = await q.submit(21, { timeout: 3000 });
  console.log('submitted', h);
  try {
    console.log('result', await h.result);
  } catch (e) {
    console.log('fail', e);
  }
  console.log(await q.stats());
  await q.close();
  await w.close();
  await redis.close();
}, 20000);
