// The popup and the options page in English and German, in real Chromium with the built
// dist/: every visible text from _locales, the popup's first paint from the status the
// worker keeps in storage.session, the grant button, and validation as you type.
'use strict';
const { test, describe, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { launch, waitFor, sleep } = require('./lib/harness');
const { msg, foreignTexts, englishLeftovers, sampleStatus, T } = require('./lib/ui');

for (const lang of ['en', 'de']) {
  describe(`popup and options in ${lang}`, () => {
    /** @type {import('./lib/harness').Harness} */ let h;
    before(async () => { h = await launch({ lang }); });
    after(async () => { await h.close(); });
    /** @param {unknown} st */
    const setStatus = async (st) => (await h.worker()).evaluate((s) => chrome.storage.session.set({ status: s }), st);

    test('the popup paints the stored status at once, every text from _locales', async (t) => {
      // The worker's own first status comes shortly after it starts: wait for it, so that
      // it does not replace the sample below.
      await waitFor(() => h.status(), 15000, 'the worker\'s first status');
      await setStatus(sampleStatus());
      const p = await h.popup();
      // No waiting: once loaded, the rows already show the stored status.
      t.diagnostic(`first paint ${Math.round(await p.evaluate(() => performance.now()))} ms after navigation`);
      assert.equal(await p.evaluate(() => document.documentElement.lang.slice(0, 2)), lang);
      assert.equal(await p.textContent('#webclient .value'), msg(lang, 'wcConnected', ['101', 'https://pbx.example.com']));
      assert.equal(await p.textContent('#webclient .extra'), msg(lang, 'dialViaPhone', ['Yealink SIP-T46S']));
      assert.equal(await p.textContent('#connector .value'), msg(lang, 'linkSearching'));
      assert.equal(await p.textContent('#connector .extra'), msg(lang, 'linkHeld', ['2']));
      assert.equal(await p.getAttribute('#pestroutes', 'class'), 'row bad');
      assert.equal(await p.textContent('#pestroutes .value'), msg(lang, 'streamNoAccess', ['http://crm.example.com:3000']));
      assert.equal(await p.isVisible('#pestroutes .action'), true, 'the grant button is shown');
      assert.equal(await p.textContent('#pestroutes .action'), msg(lang, 'grantAccess'));
      assert.equal(await p.isVisible('#forget'), true);
      assert.deepEqual(await foreignTexts(p, lang), [], 'every visible text is a message of this language');
      if (lang === 'de') assert.deepEqual(await englishLeftovers(p), [], 'no English left over');
      // It follows changes while open.
      await setStatus({ ...sampleStatus(), rows: { ...sampleStatus().rows, connector: { level: 'ok', text: T('linkReady', '19901') } } });
      await waitFor(async () => (await p.textContent('#connector .value')) === msg(lang, 'linkReady', ['19901']), 3000, 'the change shown');
      assert.equal(await p.isVisible('#connector .extra'), false);
      await p.close();
    });

    test('the options page: labels from _locales, checked as you type', async () => {
      const o = await h.options();
      await waitFor(async () => (await o.inputValue('select[name=dialMethod]')) !== '', 5000, 'settings loaded');
      assert.equal(await o.evaluate(() => document.documentElement.lang.slice(0, 2)), lang);
      await o.fill('input[name=connectorExtension]', '10x');
      await waitFor(async () => (await o.textContent('label:has(input[name=connectorExtension]) small.error')) === msg(lang, 'invalid_connectorExtension'), 3000, 'refused');
      assert.equal(await o.isDisabled('button[type=submit]'), true);
      await o.fill('input[name=dialBlockedPrefixes]', '0900 09x1');
      await waitFor(async () => (await o.textContent('label:has(input[name=dialBlockedPrefixes]) small.error')) === msg(lang, 'invalid_dialBlockedPrefixes'), 3000, 'refused');
      assert.deepEqual(await foreignTexts(o, lang), []);
      if (lang === 'de') assert.deepEqual(await englishLeftovers(o), []);
      await o.fill('input[name=connectorExtension]', '');
      await o.selectOption('select[name=dialMethod]', 'request');
      await o.fill('input[name=dialBlockedPrefixes]', '0900 +49137');
      assert.equal(await o.isDisabled('button[type=submit]'), false);
      await o.click('button[type=submit]');
      await waitFor(async () => (await o.textContent('#saved')) === msg(lang, 'saved'), 5000, 'saved');
      const stored = await (await h.worker()).evaluate(() => chrome.storage.local.get(['dialMethod', 'dialBlockedPrefixes']));
      assert.deepEqual(stored, { dialMethod: 'request', dialBlockedPrefixes: ['0900', '+49137'] });
      await o.close();
    });

    test('no offscreen document: the popup and the badge say so, the worker asks again with pauses, and all is well once one opens, also in a new worker', async () => {
      await waitFor(() => h.status(), 15000, 'the document up'); // when this test runs alone
      const w = await h.worker();
      // As a browser that refuses the document would (a policy, a broken profile).
      await w.evaluate(() => {
        const g = /** @type {any} */ (globalThis);
        g.refusals = 0;
        g.realCreate = chrome.offscreen.createDocument;
        chrome.offscreen.createDocument = () => { g.refusals++; return Promise.reject(new Error('test: refused')); };
      });
      try {
        await h.closeOffscreen();
        const p = await h.popup();
        await waitFor(async () => p.isVisible('#problem'), 8000, 'the notice');
        assert.equal(await p.textContent('#problem'), msg(lang, 'notStarted'));
        assert.equal(await p.textContent('#webclient .value'), msg(lang, 'starting'), 'no status that is no longer true');
        assert.equal(await w.evaluate(() => chrome.action.getBadgeText({})), msg(lang, 'badgeTextProblem'));
        assert.equal(await w.evaluate(() => chrome.action.getTitle({})), msg(lang, 'notStarted'));
        assert.deepEqual(await foreignTexts(p, lang), []);
        await sleep(2500);
        const refusals = await w.evaluate(() => /** @type {any} */ (globalThis).refusals);
        assert.ok(refusals >= 2 && refusals <= 5, `${refusals} attempts in about 3 s, not a loop`);
        // Chrome stops the worker during a long pause between attempts. The operator opens
        // the popup again, which starts a worker (whose browser opens the document); it
        // knows nothing of the failure, and still the notice goes once the document answers.
        await p.close();
        await h.stopWorker();
        const again = await h.popup();
        await waitFor(async () => !(await again.isVisible('#problem')), 20000, 'the notice gone');
        await waitFor(async () => (await again.textContent('#webclient .value')) !== msg(lang, 'starting'), 5000, 'a status');
        const w2 = await h.worker();
        assert.notEqual(await w2.evaluate(() => chrome.action.getBadgeText({})), msg(lang, 'badgeTextProblem'));
        await again.close();
        // A notice left by a worker that stopped before it saw the document again: the
        // next worker, which never failed, clears it when the document answers it.
        await w2.evaluate(() => chrome.storage.session.set({ docProblem: true }));
        await h.stopWorker();
        const third = await h.popup();
        await waitFor(async () => !(await third.isVisible('#problem')), 10000, 'the old notice gone');
        await third.close();
      } finally {
        // Whatever failed above, the tests after this one get a browser that opens it (in
        // the worker running now: a stopped worker's evaluate would never answer).
        await (await h.worker()).evaluate(() => {
          const g = /** @type {any} */ (globalThis);
          if (g.realCreate) chrome.offscreen.createDocument = g.realCreate;
        });
      }
    });
  });
}
