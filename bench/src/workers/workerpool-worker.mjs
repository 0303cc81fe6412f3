// Worker script for workerpool (workerType: 'process'): pool.exec(name, args).
import bcrypt from 'bcryptjs';
import workerpool from 'workerpool';

workerpool.worker({
  echo: (value) => value,
  hash: (password, salt) => bcrypt.hashSync(password, salt),
});
