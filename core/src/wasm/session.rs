//! wasm-bindgen surface of the connector session machine (`crate::session`), used by the
//! offscreen document.
