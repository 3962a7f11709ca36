// The PestRoutes screen-pop: find (or open) the PestRoutes tab, bring it forward, and run
// the customer search the way the page itself does (spec/pestroutes-sse.md). The search
// terms reach the page as arguments of an injected function, never as code. How long to
// wait for what comes from the core (screenPopPlan).
import { screenPopPlan } from './wasm/cti_core.js';

/** @typedef {{key: string, args: string[], ok: boolean}} PopOutcome */

/** @param {number} tabId @param {number} timeoutMs @returns {Promise<boolean>} */
function waitForLoad(tabId, timeoutMs) {
  return new Promise((resolve) => {
    /** @param {boolean} ok */
    const done = (ok) => { chrome.tabs.onUpdated.removeListener(onUpdated); clearTimeout(t); resolve(ok); };
    /** @param {number} id @param {{status?: string}} info */
    const onUpdated = (id, info) => { if (id === tabId && info.status === 'complete') done(true); };
    const t = setTimeout(() => done(false), timeoutMs);
    chrome.tabs.onUpdated.addListener(onUpdated);
    chrome.tabs.get(tabId).then((tab) => { if (tab.status === 'complete') done(true); }, () => done(false));
  });
}

// Runs in the PestRoutes page (MAIN world, where its jQuery lives). Self-contained.
/** @param {string[]} terms @param {number} pollMs @param {number} pollForMs */
async function searchInPage(terms, pollMs, pollForMs) {
  const input = /** @type {HTMLInputElement | null} */ (document.getElementById('customerSearch'));
  if (!input) return { key: 'popNoSearchBox' };
  const setValue = /** @type {(v: string) => void} */ (Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value')?.set);
  const visibleItem = () => {
    for (const li of document.querySelectorAll('.ui-autocomplete li.ui-menu-item')) {
      if (/** @type {HTMLElement} */ (li).offsetParent !== null) return /** @type {HTMLElement} */ (li);
    }
    return null;
  };
  for (const term of terms) {
    input.focus();
    setValue.call(input, term);
    input.dispatchEvent(new Event('input', { bubbles: true }));
    input.dispatchEvent(new KeyboardEvent('keyup', { bubbles: true }));
    const $ = /** @type {any} */ (window).jQuery;
    if ($ && $.fn && $.fn.autocomplete && $(input).autocomplete('instance')) $(input).autocomplete('search', term);
    for (let waited = 0; waited <= pollForMs; waited += pollMs) {
      const li = visibleItem();
      if (li) {
        /** @type {HTMLElement} */ (li.querySelector('a, .ui-menu-item-wrapper, div') || li).click();
        return { key: 'popOpened' };
      }
      await new Promise((r) => setTimeout(r, pollMs));
    }
  }
  return { key: 'popNoResult' };
}

/**
 * Opens the customer in the PestRoutes tab.
 * @param {string} pestroutesUrl @param {ScreenPop} pop @returns {Promise<PopOutcome>}
 */
export async function openCustomer(pestroutesUrl, pop) {
  const plan = screenPopPlan();
  if (!pestroutesUrl) return { key: 'popNoAddress', args: [], ok: false };
  let url;
  try {
    url = new URL(pestroutesUrl);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error('not http(s)');
  } catch (_) {
    return { key: 'popBadAddress', args: [], ok: false };
  }
  try {
    let [tab] = await chrome.tabs.query({ url: `${url.origin}/*` });
    if (!tab || tab.id === undefined) tab = await chrome.tabs.create({ url: url.href, active: true });
    const tabId = /** @type {number} */ (tab.id);
    await chrome.windows.update(tab.windowId, { focused: true });
    await chrome.tabs.update(tabId, { active: true });
    if (!(await waitForLoad(tabId, plan.loadTimeoutMs))) return { key: 'popNotLoaded', args: [], ok: false };
    const [res] = await chrome.scripting.executeScript({
      target: { tabId },
      world: 'MAIN',
      func: searchInPage,
      args: [pop.searchTerms, plan.pollMs, plan.pollForMs],
    });
    const key = /** @type {{key?: string} | undefined} */ (res?.result)?.key || 'popNoResult';
    return { key, args: [], ok: key === 'popOpened' };
  } catch (e) {
    const msg = String(/** @type {Error} */ (e).message || e);
    if (/cannot access|permission/i.test(msg)) return { key: 'popNoAccess', args: [], ok: false };
    return { key: 'popError', args: [msg], ok: false }; // the core shortens it
  }
}
