// The popup: renders the status the worker publishes (storage.session `status`), at once
// on open and on every change. It decides nothing; every text comes from _locales.
const $ = (/** @type {string} */ sel) => /** @type {HTMLElement} */ (document.querySelector(sel));
const t = (/** @type {string} */ key, /** @type {string[]} */ args = []) => chrome.i18n.getMessage(key, args) || key;

/** @typedef {{key: string, args: string[]}} I18nText */
/** @typedef {{kind: 'grantHosts', origins: string[]} | {kind: 'acceptConnector', extension: string}} RowAction */
/** @typedef {{level: string, text: I18nText, extra?: I18nText, action?: RowAction}} Row */

document.documentElement.lang = chrome.i18n.getUILanguage();
for (const el of document.querySelectorAll('[data-i18n]')) {
  el.textContent = t(/** @type {string} */ (/** @type {HTMLElement} */ (el).dataset.i18n));
}

/** @param {string} id @param {Row | undefined} row */
function renderRow(id, row) {
  const el = $(`#${id}`);
  el.className = `row ${row ? row.level : 'busy'}`;
  /** @type {HTMLElement} */ (el.querySelector('.value')).textContent = row ? t(row.text.key, row.text.args) : t('starting');
  /** @type {HTMLElement} */ (el.querySelector('.extra')).textContent = row && row.extra ? t(row.extra.key, row.extra.args) : '';
  const button = /** @type {HTMLButtonElement | null} */ (el.querySelector('.action'));
  if (button) {
    const action = row && row.action;
    button.hidden = !action;
    button.onclick = !action ? null : action.kind === 'grantHosts'
      // permissions.request must run inside the click itself (a user gesture).
      ? () => { chrome.permissions.request({ origins: action.origins }); }
      : () => acceptConnector(action.extension);
  }
}

/**
 * The operator accepts the connector set up for another extension (the core offers it only
 * for one on that extension's own port): their own setting, unless an administrator set it.
 * @param {string} extension
 */
async function acceptConnector(extension) {
  if (!/^[0-9]{1,10}$/.test(extension)) return;
  const managed = await chrome.storage.managed.get('connectorExtension').catch(() => ({}));
  if (/** @type {any} */ (managed).connectorExtension !== undefined) {
    $('#problem').textContent = t('acceptConnectorLocked');
    $('#problem').hidden = false;
    return;
  }
  await chrome.storage.local.set({ connectorExtension: extension });
}

// A list line is made of parts: a text from _locales, or data (a time, a masked number, a
// name) marked as such, so a test can tell that every other visible text is translated.
/** @typedef {string | {data: string}} Part */

/** @template T @param {string} id @param {T[]} items @param {(item: T) => Part[]} parts */
function renderList(id, items, parts) {
  const ul = $(`#${id}`);
  ul.replaceChildren(...(items.length ? items : [null]).map((it) => {
    const li = document.createElement('li');
    if (it === null) {
      li.className = 'empty';
      li.textContent = t('none');
      return li;
    }
    parts(it).forEach((part, i) => {
      if (i) li.append(' · ');
      const span = document.createElement('span');
      if (typeof part === 'string') span.textContent = part;
      else {
        span.className = 'data';
        span.textContent = part.data;
      }
      li.append(span);
    });
    return li;
  }));
}

const time = (/** @type {number} */ at) => new Date(at).toLocaleTimeString(chrome.i18n.getUILanguage());
const stateKey = (/** @type {string} */ s) => `state${s.charAt(0).toUpperCase()}${s.slice(1)}`;

/** @param {any} st */
function render(st) {
  renderRow('webclient', st && st.rows.webclient);
  renderRow('connector', st && st.rows.connector);
  renderRow('pestroutes', st && st.rows.pestroutes);
  const calls = st ? st.calls : [];
  renderList('calls', calls, (/** @type {any} */ c) => [
    t(c.direction === 'inbound' ? 'callInbound' : 'callOutbound'),
    c.number ? { data: c.number } : t('unknownNumber'),
    ...(c.name ? [{ data: c.name }] : []),
    t(stateKey(c.state)),
  ]);
  renderList('pops', st ? st.pops : [], (/** @type {any} */ p) =>
    [{ data: time(p.at) }, { data: p.term || '—' }, t(p.outcome.key, p.outcome.args)]);
  renderList('notes', st ? st.notes : [], (/** @type {any} */ n) => [{ data: time(n.at) }, t(n.text.key, n.text.args)]);
  // Before the first status nothing is known about trust either (not "none yet").
  const trust = st ? st.trust : null;
  const lines = !trust ? [t('starting')]
    : [
      ...(trust.configured.length ? [t('trustConfigured', [trust.configured.join(', ')])] : []),
      ...(trust.unusable.length ? [t('trustUnusable', [trust.unusable.join(', ')])] : []),
    ];
  if (trust && !lines.length) lines.push(trust.pinned ? t('trustPinned', [trust.pinned]) : t('trustNone'));
  $('#trust').textContent = lines.join(' · ');
  $('#trust').classList.toggle('bad', !!trust && trust.unusable.length > 0);
  $('#forget').hidden = !(trust && trust.pinned && !trust.configured.length && !trust.unusable.length);
}

// The one version number of this build (the diagnostics report gives the same), and an
// update Chrome has fetched: it takes effect at the next browser start (the worker notes
// it, worker-ui.js).
$('#version').textContent = chrome.runtime.getManifest().version;
/** @param {unknown} v */
function showUpdate(v) {
  $('#update').hidden = typeof v !== 'string';
  if (typeof v === 'string') $('#update').textContent = t('updateReady', [v]);
}
chrome.storage.session.get('updateReady').then(({ updateReady }) => showUpdate(updateReady));

$('#options').onclick = () => chrome.runtime.openOptionsPage();
// The new trust line follows as a status change; a failure shows under the button.
$('#forget').onclick = () => CtiMessages.ask({ kind: 'forgetPinnedOrigin' }).then(() => { $('#problem').hidden = true; }, () => {
  $('#problem').textContent = t('noAnswer');
  $('#problem').hidden = false;
});

// No status at all long after opening (the core is normally there within a fraction of a
// second; at a browser start, reading the policy can take seconds), or the worker saying
// the document cannot be opened: the call path is not running, and the popup says so
// with what to do.
const NO_STATUS_MS = 20_000;
let hasStatus = false;
let docProblem = false;
function showNotStarted() {
  const show = docProblem || !hasStatus;
  if (show) $('#problem').textContent = t('notStarted');
  if (show || $('#problem').textContent === t('notStarted')) $('#problem').hidden = !show;
}
setTimeout(showNotStarted, NO_STATUS_MS);
// Opening the popup starts a stopped worker, which opens the document if it is not there:
// after a failure, the operator's look is also the next attempt.
CtiMessages.wake();

chrome.storage.session.get(['status', 'docProblem']).then(({ status, docProblem: problem }) => {
  hasStatus = !!status;
  docProblem = !!problem;
  render(status);
  if (docProblem) showNotStarted();
});
chrome.storage.session.onChanged.addListener((changes) => {
  if (changes.status) {
    hasStatus = !!changes.status.newValue;
    render(changes.status.newValue);
  }
  if (changes.docProblem) docProblem = !!changes.docProblem.newValue;
  if (changes.updateReady) showUpdate(changes.updateReady.newValue);
  if (changes.docProblem || (changes.status && hasStatus)) showNotStarted();
});
