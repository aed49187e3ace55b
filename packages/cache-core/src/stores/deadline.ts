/**
 * The longest deadline a per-call `timeoutMs` may ask for, in ms: 2147483647 (2^31-1, about 24.8
 * days), the most a Node timer holds. Node runs a timer set for longer after 1 ms (with a
 * TimeoutOverflowWarning), so a deadline meant to be generous would end the call at once.
 * Options above it are refused (E_INVALID_CONFIG); a deadline computed from a rate and a size
 * (cache-frames' `transferMsPerMiB` times the bytes in flight) should be clamped to it.
 */
export const MAX_TIMEOUT_MS = 2_147_483_647;

/** How often the stall monitor ticks, in ms. */
const TICK_MS = 10;
/** A tick later than this (beyond its period) counts as a stall of the whole lateness. */
const STALL_MS = 20;
/** Ticks without a deadline armed before the monitor stops (it restarts with the next deadline). */
const IDLE_TICKS = 200;
/** Re-arms of one deadline at most: each needs a further stall, so this only caps a pathological process. */
const MAX_EXTENSIONS = 4;

/** Milliseconds this process spent stalled (a long synchronous task, a GC pause, starved of CPU) while deadlines were armed. */
let stalledMs = 0;
let monitor: NodeJS.Timeout | undefined;
let lastTick = 0;
let armed = 0;
let armedAtTick = 0;
let idleTicks = 0;

function tick(): void {
  const now = performance.now();
  const late = now - lastTick - TICK_MS;
  if (late > STALL_MS) stalledMs += late;
  lastTick = now;
  if (armed === armedAtTick) {
    if (++idleTicks >= IDLE_TICKS) {
      clearInterval(monitor);
      monitor = undefined;
    }
  } else {
    armedAtTick = armed;
    idleTicks = 0;
  }
}

/**
 * Notes a deadline armed (starting the stall monitor if it is stopped: an unref'd 10 ms interval,
 * stopped after 2 s without a deadline) and returns the milliseconds stalled so far.
 */
function armStallMonitor(): number {
  if (monitor === undefined) {
    lastTick = performance.now();
    idleTicks = 0;
    monitor = setInterval(tick, TICK_MS);
    monitor.unref();
  }
  armed++;
  return stalledMs;
}

/**
 * Calls `fn` once `limitMs` passed and the socket data already waiting has been read; the time
 * this process itself was stalled in between does not count. After the process was held up (a
 * long synchronous task such as encoding a large column, a long GC, a starved CPU), Node runs
 * expired timers before it reads sockets: a reply that arrived during the pause would lose to its
 * own deadline, and a large request or reply that could not move while the process was stalled
 * would too. So the callback runs after the poll phase (setImmediate), and a deadline whose wait
 * held a stall is extended by that stall (up to 4 times): the deadline measures how long the
 * server or the network took, not how long this process did not look. Clearing the returned timer
 * before it fires cancels the call; after an extension `fn` may still run, so it must be a no-op
 * once the work settled (settling a promise twice is). A `limitMs` over {@link MAX_TIMEOUT_MS}
 * is armed as that.
 */
export function afterDeadline(fn: () => void, limitMs: number): NodeJS.Timeout {
  // Never armed past what a timer holds: Node would fire a longer one after 1 ms.
  return armDeadline(fn, limitMs > MAX_TIMEOUT_MS ? MAX_TIMEOUT_MS : limitMs, armStallMonitor(), 0);
}

function armDeadline(fn: () => void, limitMs: number, stalledAtStart: number, extensions: number): NodeJS.Timeout {
  const timer = setTimeout(() => {
    setImmediate(() => {
      // A stall still in progress shows at the next tick: take the monitor's latest count.
      const stalled = stalledMs - stalledAtStart;
      if (stalled > 0 && extensions < MAX_EXTENSIONS) {
        armDeadline(fn, Math.min(stalled, MAX_TIMEOUT_MS), stalledMs, extensions + 1).unref();
        return;
      }
      fn();
    });
  }, limitMs);
  return timer;
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
