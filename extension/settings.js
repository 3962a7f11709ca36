// Settings: chrome.storage.local under the keys the two earlier extensions used (so an
// upgrade keeps its values), overridden by the administrator's Chrome policy
// (chrome.storage.managed). Names, defaults, limits and the validator are the core's
// (crate::settings); this module only reads the two stores. The core module must be
// initialised before these functions are called. Values cross into the core as JSON text
// (see crate::wasm::from_json).
import { settingsClean, settingsCombine, settingsDefaults } from './wasm/cti_core.js';

/** @typedef {{values: Record<string, any>, managedKeys: string[]}} Combined */

/** Every setting at its default. @returns {Record<string, any>} */
export const defaults = () => settingsDefaults();

/** The checked value of one setting; undefined when not acceptable. @param {string} key @param {unknown} value */
export const clean = (key, value) => settingsClean(key, JSON.stringify(value) ?? '');

/** The settings in force: policy over local over defaults, each value checked.
 * @param {Record<string, any>} local @param {Record<string, any>} managed @returns {Combined} */
export const combine = (local, managed) => settingsCombine(JSON.stringify(local), JSON.stringify(managed));

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
