//! The settings validator for the service worker and the options page (see `crate::settings`).

use serde_json::{Map, Value};
use wasm_bindgen::prelude::*;

use super::{from_json, to_js};
use crate::settings;

/// The stores are the extension's own; a megabyte is far beyond any of them.
const STORE_MAX: usize = 1 << 20;

fn object(json: &str) -> Map<String, Value> {
    from_json(json, STORE_MAX).unwrap_or_else(|| {
        web_sys::console::warn_1(&"[3CX Bridge] a settings store could not be read; its values are set aside".into());
        Map::new()
    })
}

/// Every setting at its default, keyed by name (the names in `settings::KEYS` order).
#[wasm_bindgen(js_name = settingsDefaults)]
pub fn settings_defaults() -> JsValue {
    to_js(&settings::defaults())
}

/// The checked value of one setting (given as JSON text), or `undefined` when it is not
/// acceptable.
#[wasm_bindgen(js_name = settingsClean)]
pub fn settings_clean(key: &str, value_json: &str) -> JsValue {
    from_json::<Value>(value_json, STORE_MAX)
        .and_then(|v| settings::clean(key, &v))
        .map_or(JsValue::UNDEFINED, |v| to_js(&v))
}

/// `{values, managedKeys}`: policy over local over defaults, each value checked (the two
/// stores given as JSON text).
#[wasm_bindgen(js_name = settingsCombine)]
pub fn settings_combine(local: &str, managed: &str) -> JsValue {
    to_js(&settings::combine(&object(local), &object(managed)))
}
