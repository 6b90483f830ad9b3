import { z } from 'zod';
import { Secret } from './secret.js';

/** A config field holding a credential: a literal string or a resolved reference, always a Secret. */
export const secretField = () =>
  z.union([z.string().min(1, 'must not be empty'), z.instanceof(Secret)]).transform((v) => (v instanceof Secret ? v : new Secret(v, 'inline')));
