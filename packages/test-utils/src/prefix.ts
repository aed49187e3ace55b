import { randomBytes } from 'node:crypto';

/** A key prefix no other test uses, so that tests sharing one server cannot see each other's keys. */
export function uniquePrefix(label = 'test'): string {
  return `${label}-${randomBytes(4).toString('hex')}`;
}
