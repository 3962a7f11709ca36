//! `replay`: feeds recorded WebClient messages through the tracker and prints the
//! CALL_EVENTs exactly as they would be sent to the connector.
//!
//! Input, one per line (the diagnostics file's format, `cti_core::diagnostics`):
//! `TS_MS BASE64`, a frame the WebClient's socket pushed; `TS_MS POST BASE64`, a request
//! the page POSTed; `TS_MS ANSWER STATUS BASE64`, the answer to it (an answer with status
//! 200 is state, read like a frame, as the WebClient reads it). TS_MS is the receipt time
//! in ms since the epoch, BASE64 the message in standard base64. Each request and answer
//! is also shown on stderr, decoded field by field. Blank lines and lines starting with
//! `#` are skipped. Bad lines and bad frames are reported on stderr and skipped; the exit
//! status is 0 unless stdin cannot be read.

use std::io::{self, BufRead, Write};
use std::process::ExitCode;

use base64::Engine;
use cti_core::diagnostics::{describe, B64};
use cti_core::tracker::{CallTracker, DEFAULT_STALE_AFTER_MS};

const USAGE: &str = "usage: replay [--extension N] [--tab-id ID] [--stale-after-ms MS] [--final-ts MS] < frames
  Reads lines `TS_MS BASE64` (frames), `TS_MS POST BASE64` (requests) and
  `TS_MS ANSWER STATUS BASE64` (their answers) on stdin and prints each CALL_EVENT
  JSON line; requests and answers are shown on stderr, decoded.
  --extension N        extension number for the events' context (default: from MyExtensionInfo)
  --tab-id ID          tabId for the events' context (default: empty)
  --stale-after-ms MS  age after which a call that never ended expires (default: 14400000 = 4 h)
  --final-ts MS        after the input, advance the clock to MS (expires stale calls)";

struct Options {
    extension: String,
    tab_id: String,
    stale_after_ms: u64,
    final_ts: Option<u64>,
}

fn parse_args() -> Result<Options, String> {
    let mut o = Options {
        extension: String::new(),
        tab_id: String::new(),
        stale_after_ms: DEFAULT_STALE_AFTER_MS,
        final_ts: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = |name: &str| args.next().ok_or_else(|| format!("{name} needs a value"));
        match a.as_str() {
            "--extension" => o.extension = value("--extension")?,
            "--tab-id" => o.tab_id = value("--tab-id")?,
            "--stale-after-ms" => {
                o.stale_after_ms =
                    value("--stale-after-ms")?.parse().map_err(|_| "--stale-after-ms takes milliseconds".to_string())?
            }
            "--final-ts" => {
                o.final_ts =
                    Some(value("--final-ts")?.parse().map_err(|_| "--final-ts takes milliseconds".to_string())?)
            }
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown option {other}")),
        }
    }
    Ok(o)
}

fn main() -> ExitCode {
    let opts = match parse_args() {
        Ok(o) => o,
        Err(e) => {
            if !e.is_empty() {
                eprintln!("replay: {e}");
            }
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    let mut tracker = CallTracker::new(&opts.extension, &opts.tab_id, opts.stale_after_ms);
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    for (n, line) in io::stdin().lock().lines().enumerate() {
        let lineno = n + 1;
        let line = match line {
            Ok(l) => l,
            Err(e) => {
                eprintln!("replay: cannot read stdin: {e}");
                return ExitCode::FAILURE;
            }
        };
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let parts: Vec<&str> = line.split_whitespace().collect();
        let (ts, status, data) = match parts[..] {
            [ts, data] => (ts, None, data),
            [ts, "POST", data] => (ts, Some(0), data),
            // An answer without a body (an HTTP error) has no base64.
            [ts, "ANSWER", status] | [ts, "ANSWER", status, _] => match status.parse::<u16>() {
                Ok(s) if s > 0 => (ts, Some(s), parts.get(3).copied().unwrap_or("")),
                _ => {
                    eprintln!("replay: line {lineno}: the status of an ANSWER is a number");
                    continue;
                }
            },
            _ => {
                eprintln!("replay: line {lineno}: expected `TS_MS BASE64`, `TS_MS POST BASE64` or `TS_MS ANSWER STATUS BASE64`");
                continue;
            }
        };
        let Ok(ts) = ts.parse::<u64>() else {
            eprintln!("replay: line {lineno}: timestamp is not milliseconds");
            continue;
        };
        let bytes = match B64.decode(data) {
            Ok(b) => b,
            Err(e) => {
                eprintln!("replay: line {lineno}: bad base64: {e}");
                continue;
            }
        };
        match status {
            Some(0) => {
                eprintln!("replay: line {lineno}: POST {}", describe(&bytes));
                continue;
            }
            Some(s) => {
                eprintln!("replay: line {lineno}: ANSWER {s} {}", describe(&bytes));
                if s != 200 || bytes.is_empty() {
                    continue;
                }
            }
            None => {}
        }
        match tracker.handle_frame(&bytes, ts) {
            Ok(outcome) => {
                for note in &outcome.notes {
                    eprintln!("replay: line {lineno}: {note}");
                }
                if let Some(ext) = &outcome.extension_detected {
                    eprintln!("replay: line {lineno}: extension number reported by the PBX: {ext}");
                }
                for ev in outcome.events {
                    let _ = writeln!(out, "{}", ev.to_json());
                }
            }
            Err(e) => eprintln!("replay: line {lineno}: {e}"),
        }
    }
    if let Some(ts) = opts.final_ts {
        for ev in tracker.handle_timeout(ts) {
            let _ = writeln!(out, "{}", ev.to_json());
        }
    }
    let _ = out.flush();
    ExitCode::SUCCESS
}
