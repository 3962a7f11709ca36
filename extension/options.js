// The options page: every setting, grouped, checked as you type with the same validator
// that loads them (core: crate::settings), policy-set fields locked. On save it asks Chrome
// for access to PestRoutes hosts that were not granted at install.
import init, { hostPatterns } from './wasm/cti_core.js';
import * as Settings from './settings.js';

const t = (/** @type {string} */ key, /** @type {string[]} */ args = []) => chrome.i18n.getMessage(key, args) || key;
const form = /** @type {HTMLFormElement} */ (document.getElementById('settings'));
const saved = /** @type {HTMLElement} */ (document.getElementById('saved'));
const LISTS = ['webclientOrigins', 'dialBlockedPrefixes'];
/** @type {Record<string, any>} */
let loaded = {};

document.documentElement.lang = chrome.i18n.getUILanguage();
for (const el of document.querySelectorAll('[data-i18n]')) el.textContent = t(/** @type {HTMLElement} */ (el).dataset.i18n || '');

/** @returns {HTMLInputElement[]} */
const fields = () => /** @type {HTMLInputElement[]} */ ([...form.elements].filter((el) => /** @type {HTMLInputElement} */ (el).name));

/** The field's value, cleaned; undefined when invalid. @param {HTMLInputElement} el */
function valueOf(el) {
  return Settings.clean(el.name, el.type === 'checkbox' ? el.checked : el.value);
}

/** Shows or clears the field's error; true when valid. @param {HTMLInputElement} el */
function check(el) {
  const ok = el.disabled || valueOf(el) !== undefined;
  el.classList.toggle('invalid', !ok);
  const label = /** @type {HTMLElement} */ (el.closest('label'));
  let msg = /** @type {HTMLElement | null} */ (label.querySelector('small.error'));
  if (!ok && !msg) {
    msg = document.createElement('small');
    msg.className = 'error';
    label.append(msg);
  }
  if (msg) msg.textContent = ok ? '' : t(`invalid_${el.name}`);
  return ok;
}

function checkAll() {
  const ok = fields().map(check).every(Boolean);
  /** @type {HTMLButtonElement} */ (form.querySelector('button[type=submit]')).disabled = !ok;
  return ok;
}

async function load() {
  const { values, managedKeys } = await Settings.load();
  loaded = values;
  for (const el of fields()) {
    const v = values[el.name];
    if (el.type === 'checkbox') el.checked = !!v;
    // Commas between the items, so that what the form split shows as split ("+49 900"
    // typed is two prefixes, "+49, 900" after saving).
    else if (LISTS.includes(el.name)) el.value = v.join(', ');
    else if (el.name === 'sharedSecret') { el.value = ''; el.placeholder = v ? t('secretSaved') : ''; }
    else el.value = el.name === 'bridgePort' && v === 0 ? '' : String(v);
    const locked = managedKeys.includes(el.name);
    el.disabled = locked;
    const label = /** @type {HTMLElement} */ (el.closest('label'));
    label.classList.toggle('locked', locked);
    label.querySelector('small.admin')?.remove();
    if (locked) {
      const note = document.createElement('small');
      note.className = 'admin';
      note.textContent = t('setByAdmin');
      label.append(note);
    }
  }
  checkAll();
}

form.addEventListener('input', (e) => {
  const el = /** @type {HTMLInputElement} */ (e.target);
  if (!el.name) return; // not a setting (the diagnostics' duration lives in the same form)
  check(el);
  checkAll();
  saved.textContent = '';
});

form.addEventListener('submit', async (e) => {
  e.preventDefault();
  if (!checkAll()) return;
  /** @type {Record<string, any>} */
  const out = {};
  for (const el of fields()) {
    if (el.disabled || (el.name === 'sharedSecret' && el.value === '')) continue; // keep the saved secret
    out[el.name] = valueOf(el);
  }
  const effective = { ...loaded, ...out };
  // Within the click (a user gesture): access to hosts the install did not grant.
  const origins = hostPatterns(effective.serverAddress, effective.pestroutesUrl);
  if (origins.length && !(await chrome.permissions.request({ origins }).catch(() => false))) {
    saved.textContent = t('accessRefused');
    return;
  }
  await chrome.storage.local.set(out);
  saved.textContent = t('saved');
  load();
});

init({ module_or_path: chrome.runtime.getURL('wasm/cti_core_bg.wasm') }).then(load);
