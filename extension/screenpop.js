// The PestRoutes screen-pop: find (or open) the PestRoutes tab, bring it forward, and run
// the customer search the way the page itself does (spec/pestroutes-sse.md). The search
// terms reach the page as arguments of an injected function, never as code.

const LOAD_TIMEOUT_MS = 30000;

function originPattern(url) {
  const u = new URL(url);
  return `${u.origin}/*`;
}

function waitForLoad(tabId) {
  return new Promise((resolve) => {
    const done = (ok) => { chrome.tabs.onUpdated.removeListener(onUpdated); clearTimeout(t); resolve(ok); };
    const onUpdated = (id, info) => { if (id === tabId && info.status === 'complete') done(true); };
    const t = setTimeout(() => done(false), LOAD_TIMEOUT_MS);
    chrome.tabs.onUpdated.addListener(onUpdated);
    chrome.tabs.get(tabId).then((tab) => { if (tab.status === 'complete') done(true); }, () => done(false));
  });
}

// Runs in the PestRoutes page (MAIN world, where its jQuery lives).
async function searchInPage(terms) {
  const input = document.getElementById('customerSearch');
  if (!input) return { outcome: 'no search box on the page' };
  const setValue = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value').set;
  const visibleItem = () => {
    for (const li of document.querySelectorAll('.ui-autocomplete li.ui-menu-item')) {
      if (li.offsetParent !== null) return li;
    }
    return null;
  };
  for (const term of terms) {
    input.focus();
    setValue.call(input, term);
    input.dispatchEvent(new Event('input', { bubbles: true }));
    input.dispatchEvent(new KeyboardEvent('keyup', { bubbles: true }));
    const $ = window.jQuery;
    if ($ && $.fn && $.fn.autocomplete && $(input).autocomplete('instance')) $(input).autocomplete('search', term);
    for (let waited = 0; waited <= 3000; waited += 150) {
      const li = visibleItem();
      if (li) {
        (li.querySelector('a, .ui-menu-item-wrapper, div') || li).click();
        return { outcome: 'opened', term };
      }
      await new Promise((r) => setTimeout(r, 150));
    }
  }
  return { outcome: 'no result' };
}

/** Opens the customer; returns the outcome text for the popup. */
export async function openCustomer(pestroutesUrl, pop) {
  if (!pestroutesUrl) return 'no PestRoutes address configured';
  let url;
  try {
    url = new URL(pestroutesUrl);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error('not http(s)');
  } catch (_) {
    return 'PestRoutes address is not a web address';
  }
  let [tab] = await chrome.tabs.query({ url: originPattern(url.href) });
  if (!tab) {
    tab = await chrome.tabs.create({ url: url.href, active: true });
  }
  await chrome.windows.update(tab.windowId, { focused: true });
  await chrome.tabs.update(tab.id, { active: true });
  if (!(await waitForLoad(tab.id))) return 'PestRoutes tab did not finish loading';
  try {
    const [res] = await chrome.scripting.executeScript({
      target: { tabId: tab.id },
      world: 'MAIN',
      func: searchInPage,
      args: [pop.searchTerms],
    });
    return (res && res.result && res.result.outcome) || 'no result';
  } catch (e) {
    return `could not reach the PestRoutes page (${e.message})`;
  }
}
