// Helpers for the popup/options tests and the screenshots: the locale files, a status in
// the shape the core publishes (crate::bridge::status), and a check that every visible
// text of a page comes from _locales.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const LOCALES = path.resolve(__dirname, '..', '..', 'extension', '_locales');

/** @typedef {Record<string, {message: string, placeholders?: Record<string, {content: string}>}>} Messages */

/** @param {string} lang @returns {Messages} */
function messages(lang) {
  return JSON.parse(fs.readFileSync(path.join(LOCALES, lang, 'messages.json'), 'utf8'));
}

/** The message with `args` put in, as chrome.i18n.getMessage does ($1 … $9).
 * @param {string} lang @param {string} key @param {string[]} [args] */
function msg(lang, key, args = []) {
  const m = messages(lang)[key];
  if (!m) throw new Error(`no message ${key} in ${lang}`);
  return m.message.replace(/\$([1-9])/g, (_, n) => args[Number(n) - 1] ?? '');
}

/** One regular expression per message; a placeholder matches any text. @param {string} lang */
function patterns(lang) {
  const esc = (/** @type {string} */ s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return Object.values(messages(lang)).map((m) => new RegExp(`^${m.message.split(/\$[1-9]/).map(esc).join('.+')}$`, 's'));
}

/** Every visible text of the page, except what is marked as data (times, masked numbers).
 * @param {import('playwright-core').Page} page @returns {Promise<string[]>} */
async function visibleTexts(page) {
  return page.evaluate(() => {
    /** @type {string[]} */
    const out = [];
    const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let n = walk.nextNode(); n; n = walk.nextNode()) {
      const s = (n.textContent || '').trim();
      const el = n.parentElement;
      if (!s || /^[·\s—-]+$/.test(s) || !el || el.closest('.data, script, style')) continue;
      if (!el.checkVisibility({ checkOpacity: true, checkVisibilityCSS: true })) continue;
      out.push(s);
    }
    for (const o of Array.from(document.querySelectorAll('select option'))) out.push((o.textContent || '').trim());
    for (const el of Array.from(document.querySelectorAll('input[placeholder]'))) {
      const p = /** @type {HTMLInputElement} */ (el).placeholder;
      if (p && !/^https?:|^[0-9:.]+$/.test(p)) out.push(p);
    }
    return out;
  });
}

/** The visible texts that are not a message of `lang`.
 * @param {import('playwright-core').Page} page @param {string} lang */
async function foreignTexts(page, lang) {
  const pats = patterns(lang);
  return (await visibleTexts(page)).filter((s) => !pats.some((re) => re.test(s)));
}

/** The visible texts that are English messages German words differently (left-overs).
 * @param {import('playwright-core').Page} page */
async function englishLeftovers(page) {
  const de = messages('de');
  const english = new Set(Object.entries(messages('en')).filter(([k, m]) => m.message !== de[k].message).map(([, m]) => m.message));
  return (await visibleTexts(page)).filter((s) => english.has(s));
}

const T = (/** @type {string} */ key, /** @type {string[]} */ ...args) => ({ key, args });

/** A status as the core publishes it: every row with something to say, lists filled. */
function sampleStatus(now = Date.now()) {
  return {
    v: 1, at: now,
    badge: { text: 'badgeTextProblem', color: '#c62828', title: T('badgeProblem') },
    rows: {
      webclient: { level: 'ok', text: T('wcConnected', '101', 'https://pbx.example.com'), extra: T('dialViaPhone', 'Yealink SIP-T46S') },
      connector: { level: 'busy', text: T('linkSearching'), extra: T('linkHeld', '2') },
      pestroutes: {
        level: 'bad', text: T('streamNoAccess', 'http://crm.example.com:3000'),
        action: { kind: 'grantHosts', origins: ['http://crm.example.com:3000/*'] },
      },
    },
    calls: [
      { direction: 'inbound', state: 'connected', number: '+49*******67', name: 'M***' },
      { direction: 'outbound', state: 'ringing', number: '', name: '' },
    ],
    pops: [
      { at: now - 60000, term: '+1******4567', outcome: T('popOpened'), ok: true },
      { at: now - 300000, term: '+1******0000', outcome: T('popNoResult'), ok: false },
    ],
    notes: [
      { at: now - 60000, text: T('noteDialNoPermissionDialer', '+49*******67', 'No permission') },
      { at: now - 120000, text: T('noteBlocked', '0900*****12') },
      { at: now - 900000, text: T('noteLookalike', 'https://webclient.example.net') },
    ],
    trust: { configured: [], unusable: [], pinned: 'https://pbx.example.com' },
  };
}

module.exports = { messages, msg, patterns, visibleTexts, foreignTexts, englishLeftovers, sampleStatus, T };
