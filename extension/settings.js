// Settings: chrome.storage.local under the keys the two earlier extensions used (so an
// upgrade keeps its values), overridden by the administrator's Chrome policy
// (chrome.storage.managed). Classic script: usable as a content script and importable
// from modules; it defines globalThis.CtiSettings.
globalThis.CtiSettings = (() => {
  'use strict';
  const DEFAULTS = Object.freeze({
    extensionNumber: '',
    bridgePort: 0,
    dialDelay: 750,
    dialMethod: 'auto',
    debugLogging: false,
    webclientOrigins: [],
    serverAddress: '',
    sharedSecret: '',
    pestroutesUrl: '',
    dialBlockedPrefixes: ['0900', '+49900', '0049900', '0137', '+49137', '0049137'],
  });

  /** @param {unknown} s @returns {string | undefined} */
  function origin(s) {
    try {
      const u = new URL(String(s).trim());
      return (u.protocol === 'https:' || u.protocol === 'http:') ? u.origin : undefined;
    } catch (_) {
      return undefined;
    }
  }

  // A stored value of the wrong shape is ignored (the default applies), never trusted.
  /** @param {string} key @param {any} v @returns {any} */
  function clean(key, v) {
    switch (key) {
      case 'extensionNumber': {
        const s = v === undefined || v === null ? '' : String(v).trim();
        return /^[0-9]{0,10}$/.test(s) ? s : undefined;
      }
      case 'bridgePort': {
        const n = Number(v || 0);
        return Number.isInteger(n) && n >= 0 && n <= 65535 ? n : undefined;
      }
      case 'dialDelay': {
        const n = Number(v);
        return Number.isFinite(n) && n >= 0 && n <= 5000 ? Math.round(n) : undefined;
      }
      case 'dialMethod':
        return ['auto', 'protobuf', 'tel'].includes(v) ? v : undefined;
      case 'debugLogging':
        return typeof v === 'boolean' ? v : undefined;
      case 'webclientOrigins': {
        const list = Array.isArray(v) ? v : typeof v === 'string' ? v.split(/[\s,]+/) : null;
        if (!list) return undefined;
        return list.filter((s) => String(s).trim()).map(origin).filter(Boolean);
      }
      case 'dialBlockedPrefixes': {
        const list = Array.isArray(v) ? v : typeof v === 'string' ? v.split(/[\s,;]+/) : null;
        if (!list) return undefined;
        const items = list.map((p) => String(p).trim()).filter(Boolean);
        return items.length <= 64 && items.every((p) => /^\+?[0-9]{1,15}$/.test(p)) ? items : undefined;
      }
      case 'serverAddress':
      case 'sharedSecret':
        return typeof v === 'string' && v.length <= 512 ? v.trim() : undefined;
      case 'pestroutesUrl': {
        if (typeof v !== 'string' || v.length > 512) return undefined;
        return v.trim() === '' || origin(v) ? v.trim() : undefined;
      }
      default:
        return undefined;
    }
  }

  /** The administrator's settings (policy). The first read after a browser start can take
   * seconds while Chrome loads its policies. @returns {Promise<Record<string, any>>} */
  function loadManaged() {
    return chrome.storage.managed ? chrome.storage.managed.get(null).catch(() => ({})) : Promise.resolve({});
  }

  /** @returns {Promise<{values: Record<string, any>, managedKeys: string[]}>} */
  async function load() {
    const [local, managed] = await Promise.all([chrome.storage.local.get(null), loadManaged()]);
    return combine(local, managed);
  }

  /**
   * The settings in force: policy over local over defaults, each value checked.
   * @param {Record<string, any>} local @param {Record<string, any>} managed
   * @returns {{values: Record<string, any>, managedKeys: string[]}}
   */
  function combine(local, managed) {
    /** @type {Record<string, any>} */
    const values = { ...DEFAULTS };
    const managedKeys = [];
    for (const key of Object.keys(DEFAULTS)) {
      const l = clean(key, local[key]);
      if (l !== undefined && local[key] !== undefined) values[key] = l;
      const m = clean(key, managed[key]);
      if (m !== undefined && managed[key] !== undefined) {
        values[key] = m;
        managedKeys.push(key);
      }
    }
    return { values, managedKeys };
  }

  return { DEFAULTS, clean, combine, load, loadManaged, origin };
})();
