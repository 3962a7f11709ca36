//! Sans-IO core of the 3CX WebClient bridge.
//!
//! Nothing here touches a socket, a timer or a browser API: bytes and clock readings go
//! in, and what the shell must do comes out (CALL_EVENTs to send, command frames to put
//! on the WebClient socket, customer records to open). The same code runs natively (tests,
//! the `replay` command, benchmarks) and as WebAssembly in the extension.
//!
//! - [`schema`]: the 3CX messages (one place for every field number).
//! - [`frame`]: decoding WebClient frames, encoding command frames.
//! - [`tracker`]: legs grouped into calls; CALL_EVENTs from state transitions.
//! - [`connector`]: connector protocol v1 messages.
//! - [`command`]: DIAL/DROP validation and confirmation.
//! - [`link`]: the connector outbox (nothing lost across restarts) and port search.
//! - [`session`]: the connector session policy (discovery, HELLO, whose connector it is).
//! - [`sse`], [`screenpop`]: the PestRoutes middleware's event stream.
//! - [`bridge`]: the call path's state machine (trust, commands, outbox, status), in the
//!   offscreen document.
//! - [`settings`]: the office settings: defaults, limits, the one validator.
//! - [`diagnostics`]: recording masked frames for a file an operator can send.
//! - [`privacy`]: masking numbers and names for logs.

pub mod bridge;
pub mod command;
pub mod connector;
pub mod device;
pub mod diagnostics;
pub mod frame;
pub mod link;
pub mod privacy;
pub mod schema;
pub mod screenpop;
pub mod session;
pub mod settings;
pub mod sse;
pub mod stream;
/// Frame builders for tests and the benchmark only: never in the shipped `.wasm`.
#[cfg(feature = "testkit")]
pub mod testkit;
pub mod tracker;

#[cfg(target_arch = "wasm32")]
pub mod wasm;

pub use connector::{CallEvent, CallState, Direction, EndReason};
pub use tracker::CallTracker;

/// `s` cut to at most `max` characters (names, numbers and texts from peers).
pub(crate) fn cut(mut s: String, max: usize) -> String {
    if let Some((i, _)) = s.char_indices().nth(max) {
        s.truncate(i);
    }
    s
}
