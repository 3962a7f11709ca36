// The core's status, as the offscreen document hands it over: the badge, and
// storage.session for the popup's first paint. (The popup's and the options page's requests
// go to the core itself, doc-ui.js.)
import { onDoc, onDocProblem } from './worker-doc.js';

// An update Chrome has fetched waits until the extension is idle, which with the offscreen
// document open it never is: it takes effect at the next browser start. (Applying it at
// once would orphan the content scripts of the open WebClient tabs, whose socket the hook
// can only catch when the page loads.) The popup says it is waiting.
chrome.runtime.onUpdateAvailable.addListener((details) => {
  chrome.storage.session.set({ updateReady: details.version });
});

// The badge is set only when it changed (most frames change the calls list, not the
// badge: three calls to the browser saved per frame).
let shownBadge = '';
onDoc('status', (/** @type {{status: any}} */ { status }) => {
  chrome.storage.session.set({ status });
  const b = status.badge;
  const badge = JSON.stringify(b);
  if (badge === shownBadge) return;
  shownBadge = badge;
  chrome.action.setBadgeText({ text: b.text ? chrome.i18n.getMessage(b.text) : '' });
  chrome.action.setBadgeBackgroundColor({ color: b.color });
  chrome.action.setTitle({ title: chrome.i18n.getMessage(b.title.key, b.title.args) || chrome.runtime.getManifest().name });
});

// No document, so no core and no status: the popup says so (storage.session `docProblem`,
// its rows show "Starting…" again instead of a status that is no longer true) and the
// badge is red, as for any row that cannot work. The reason itself is on the console.
onDocProblem((why) => {
  if (why === null) {
    chrome.storage.session.remove('docProblem');
    return;
  }
  chrome.storage.session.remove('status');
  chrome.storage.session.set({ docProblem: true });
  shownBadge = '';
  chrome.action.setBadgeText({ text: chrome.i18n.getMessage('badgeTextProblem') });
  chrome.action.setBadgeBackgroundColor({ color: '#c62828' }); // status.rs RED
  chrome.action.setTitle({ title: chrome.i18n.getMessage('notStarted') });
});
