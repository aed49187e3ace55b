/**
 * Calls `fn` once `limitMs` passed and the socket data already waiting has been read. After the
 * process was held up longer than a deadline (a long GC, a starved CPU), Node runs expired timers
 * before it reads sockets: a reply that arrived during the pause would lose to its own deadline
 * and read as E_TIMEOUT. The immediate runs after the poll phase, so that reply wins.
 */
export function afterDeadline(fn: () => void, limitMs: number): NodeJS.Timeout {
  return setTimeout(() => setImmediate(fn), limitMs);
}

/**
 * Settles as `work` does, or rejects with `onTimeout()` once `limitMs` passed. The work goes on
 * after the deadline (a command already written cannot be taken back); its late outcome is dropped.
 */
export function withDeadline<T>(work: Promise<T>, limitMs: number, onTimeout: () => Error): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = afterDeadline(() => reject(onTimeout()), limitMs);
    work.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

/** True when `work` settled, either way, within `limitMs`; false after that. Never rejects. */
export async function settlesWithin(work: Promise<unknown>, limitMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => {
    timer = afterDeadline(() => resolve(false), limitMs);
  });
  try {
    return await Promise.race([work.then(() => true, () => true), late]);
  } finally {
    clearTimeout(timer);
  }
}
