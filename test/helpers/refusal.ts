/** Asserting that a promise is refused with a CloudRoutesError. */
import * as assert from 'uvu/assert';
import { CloudRoutesError } from '../../src/core/errors.js';

/** The CloudRoutesError `p` rejects with; fails the test when `p` resolves or rejects with another kind of error. */
export async function refusal(p: Promise<unknown>): Promise<CloudRoutesError> {
  try {
    await p;
  } catch (err) {
    assert.instance(err, CloudRoutesError);
    return err as CloudRoutesError;
  }
  throw new Error('expected a rejection');
}
