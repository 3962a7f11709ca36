//! The settings validator for the worker and the options page (see `crate::settings`).

use serde_json::{Map, Value};
use wasm_bindgen::prelude::*;

use super::to_js;
use crate::settings;

fn object(v: JsValue) -> Map<String, Value> {
    serde_wasm_bindgen::from_value::<Value>(v).ok().and_then(|v| v.as_object().cloned()).unwrap_or_default()
}

/// Every setting at its default, keyed by name (the names in `settings::KEYS` order).
#[wasm_bindgen(js_name = settingsDefaults)]
pub fn settings_defaults() -> JsValue {
    to_js(&settings::defaults())
}

/// The checked value of one setting, or `undefined` when it is not acceptable.
#[wasm_bindgen(js_name = settingsClean)]
pub fn settings_clean(key: &str, value: JsValue) -> JsValue {
    serde_wasm_bindgen::from_value::<Value>(value)
        .ok()
        .and_then(|v| settings::clean(key, &v))
        .map_or(JsValue::UNDEFINED, |v| to_js(&v))
}

/// `{values, managedKeys}`: policy over local over defaults, each value checked.
#[wasm_bindgen(js_name = settingsCombine)]
pub fn settings_combine(local: JsValue, managed: JsValue) -> JsValue {
    to_js(&settings::combine(&object(local), &object(managed)))
}
