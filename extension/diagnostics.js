// The options page's diagnostics control: start and stop a recording in the core
// and save the file it makes (replay input, numbers and names masked by the core, with a
// status report on top). It decides nothing: durations are the page's choices, limits the core's.
const t = (/** @type {string} */ key, /** @type {string[]} */ args = []) => chrome.i18n.getMessage(key, args) || key;
const $ = (/** @type {string} */ id) => /** @type {HTMLElement} */ (document.getElementById(id));
const start = /** @type {HTMLButtonElement} */ ($('diag-start'));
const stop = /** @type {HTMLButtonElement} */ ($('diag-stop'));
const save = /** @type {HTMLButtonElement} */ ($('diag-save'));
const minutes = /** @type {HTMLSelectElement} */ ($('diag-minutes'));

/** @param {UiToCore} m @returns {Promise<any>} */
const ask = (m) => CtiMessages.ask(m).catch((e) => {
  // Nobody answered, even after waiting for the offscreen document: say so where the
  // operator is looking, and leave the buttons as they were.
  $('diag-state').textContent = t('noAnswer');
  throw e;
});

/** @type {ReturnType<typeof setTimeout> | undefined} */
let ends;

/** @param {DiagStatus} st */
function show(st) {
  const until = new Date(st.until).toLocaleTimeString(chrome.i18n.getUILanguage());
  $('diag-state').textContent = st.active ? t('diagRecording', [until, String(st.frames)])
    : st.full ? t('diagFull', [String(st.frames)])
      : st.frames ? t('diagDone', [String(st.frames)]) : t('diagIdle');
  start.disabled = st.active;
  stop.disabled = !st.active;
  save.disabled = !st.frames;
  // Show the end of the recording when it comes (the core's end time; asked again if the
  // core still says it runs).
  clearTimeout(ends);
  if (st.active) ends = setTimeout(refresh, Math.max(0, st.until - Date.now()));
}

const quiet = () => {}; // the failure is on the page already (ask)
const refresh = () => ask({ kind: 'diagStatus' }).then(show, quiet);

start.onclick = () => ask({ kind: 'diagStart', minutes: Number(minutes.value) }).then(show, quiet);
stop.onclick = () => ask({ kind: 'diagStop' }).then(show, quiet);
save.onclick = async () => {
  const { text } = await ask({ kind: 'diagFetch' }).catch(() => ({ text: null }));
  if (text === null) return;
  const a = document.createElement('a');
  a.href = URL.createObjectURL(new Blob([text], { type: 'text/plain' }));
  a.download = `3cx-bridge-diagnostics-${new Date().toISOString().replace(/[:.]/g, '-')}.txt`;
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href)); // once the download has taken the data
  refresh();
};
// The count grows while recording: shown anew whenever the operator comes back to the page.
window.addEventListener('focus', refresh);
refresh();

export {}; // a module: its names stay its own
