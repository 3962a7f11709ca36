// Settings: chrome.storage.local under the keys the two earlier extensions used (so an
// upgrade keeps its values), overridden by the administrator's Chrome policy
// (chrome.storage.managed). Names, defaults, limits and the validator are the core's
// (crate::settings); this module only reads the two stores. The core module must be
// initialised before these functions are called. Values cross into the core as JSON text
// (see crate::wasm::from_json), with only the settings' own keys and well-formed strings,
// so that nothing else in a store can make the core set every value aside.
import { settingsClean, settingsCombine, settingsDefaults } from './wasm/cti_core.js';

/** @typedef {{values: Record<string, any>, managedKeys: string[]}} Combined */

/** Every setting at its default. @returns {Record<string, any>} */
export const defaults = () => settingsDefaults();

/** JSON text for the core. A lone surrogate becomes U+FFFD, as it does in any string the
 * core is handed directly; in JSON text the core would refuse the whole text for it.
 * @param {unknown} v */
const text = (v) => JSON.stringify(v, (_, x) => (typeof x === 'string' ? x.toWellFormed() : x)) ?? '';

/** @type {string[] | undefined} */
let keys;
/** Only the settings of a store: it holds other things too (the pinned origin, the last
 * good port, whatever an earlier version left). @param {Record<string, any>} store */
function settingsOf(store) {
  keys = keys || Object.keys(settingsDefaults());
  return Object.fromEntries(keys.filter((k) => k in store).map((k) => [k, store[k]]));
}

/** The checked value of one setting; undefined when not acceptable. @param {string} key @param {unknown} value */
export const clean = (key, value) => settingsClean(key, text(value));

/** The settings in force: policy over local over defaults, each value checked.
 * @param {Record<string, any>} local @param {Record<string, any>} managed @returns {Combined} */
export const combine = (local, managed) => settingsCombine(text(settingsOf(local)), text(settingsOf(managed)));

/** The administrator's settings (policy). The first read after a browser start can take
 * seconds while Chrome loads its policies. @returns {Promise<Record<string, any>>} */
export function loadManaged() {
  return chrome.storage.managed ? chrome.storage.managed.get(null).catch(() => ({})) : Promise.resolve({});
}

/** @returns {Promise<Combined>} */
export async function load() {
  const [local, managed] = await Promise.all([chrome.storage.local.get(null), loadManaged()]);
  return combine(local, managed);
}
