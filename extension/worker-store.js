// The core's state in storage.session, written off the critical path: one write at a time,
// each with the state as it is when the write starts, so a burst of frames costs one or
// two writes. Whoever needs "stored" (the page's ack) waits for the write that follows it.

/**
 * @param {() => string | undefined} snapshot the state to store (undefined: nothing yet)
 * @param {(...a: unknown[]) => void} log
 */
export function createStore(snapshot, log) {
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
    setTimeout(async () => {
      do {
        again = false;
        const done = waiting.splice(0);
        try {
          const bridge = snapshot();
          if (bridge !== undefined) await chrome.storage.session.set({ bridge });
        } catch (e) {
          log('could not store the state:', /** @type {Error} */ (e).message);
        }
        done.forEach((fn) => fn());
      } while (again || waiting.length);
      storing = false;
    }, 0);
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
