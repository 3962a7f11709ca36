// The core's state in storage.session (through the worker, which alone has chrome.storage),
// written off the critical path: one write at a time, each with the state as it is when the
// write starts, so a burst of frames costs one or two writes. Whoever needs "stored" (the
// page's ack) waits for the write that follows it.

/**
 * @param {() => string | undefined} snapshot the state to store (undefined: nothing yet)
 * @param {(bridge: string) => Promise<void>} write
 * @param {(fn: () => void) => void} later runs `fn` in a task of its own
 * @param {(...a: unknown[]) => void} log
 */
export function createStore(snapshot, write, later, log) {
  /** @type {Array<() => void>} */
  const waiting = [];
  let storing = false;
  let again = false;

  function soon() {
    if (storing) {
      again = true;
      return;
    }
    storing = true;
    later(async () => {
      do {
        again = false;
        const done = waiting.splice(0);
        try {
          const bridge = snapshot();
          if (bridge !== undefined) await write(bridge);
        } catch (e) {
          log('could not store the state:', /** @type {Error} */ (e).message);
        }
        done.forEach((fn) => fn());
      } while (again || waiting.length);
      storing = false;
    });
  }

  return {
    soon,
    /** Runs `fn` once the state as it is now has been stored. @param {() => void} fn */
    after(fn) {
      waiting.push(fn);
      soon();
    },
  };
}
