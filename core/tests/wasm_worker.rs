//! The WASM core in headless Chromium: dedicated_worker context.
#![cfg(target_arch = "wasm32")]

wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_dedicated_worker);

mod wasm_shared;
