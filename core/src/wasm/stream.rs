//! wasm-bindgen surface of the PestRoutes stream machine (`crate::stream`), used by the
//! offscreen document.
