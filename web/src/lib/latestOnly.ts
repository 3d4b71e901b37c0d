/** Wraps a question to the server so that only the latest one's answer is used: answers
 * can come back out of order, and an earlier one arriving last resolves to undefined. */
export function latestOnly<A extends unknown[], T>(ask: (...args: A) => Promise<T>): (...args: A) => Promise<T | undefined> {
  let asked = 0;
  return async (...args: A) => {
    const n = ++asked;
    const answer = await ask(...args);
    return n === asked ? answer : undefined;
  };
}
