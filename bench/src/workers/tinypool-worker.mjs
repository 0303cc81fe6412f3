// Worker module for tinypool (child processes): run(task, { name }).
import bcrypt from 'bcryptjs';

export function echo(value) {
  return value;
}

export function hash({ password, salt }) {
  return bcrypt.hashSync(password, salt);
}
