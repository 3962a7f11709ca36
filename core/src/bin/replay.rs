//! `replay`: feeds recorded WebClient frames through the tracker and prints the
//! CALL_EVENTs exactly as they would be sent to the connector.
//!
//! Input, one per line: `TS_MS BASE64` (receipt time in ms since the epoch, the raw binary
//! WebSocket message in standard base64). Blank lines and lines starting with `#` are
//! skipped. Bad lines and bad frames are reported on stderr and skipped; the exit status
//! is 0 unless stdin cannot be read.

use std::io::{self, BufRead, Write};
use std::process::ExitCode;

use base64::Engine;
use cti_core::tracker::{CallTracker, DEFAULT_STALE_AFTER_MS};

const USAGE: &str = "usage: replay [--extension N] [--tab-id ID] [--stale-after-ms MS] [--final-ts MS] < frames
  Reads lines `TS_MS BASE64` on stdin and prints each CALL_EVENT JSON line.
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
    let b64 = base64::engine::general_purpose::STANDARD;
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
        let mut parts = line.split_whitespace();
        let (Some(ts), Some(data), None) = (parts.next(), parts.next(), parts.next()) else {
            eprintln!("replay: line {lineno}: expected `TS_MS BASE64`");
            continue;
        };
        let Ok(ts) = ts.parse::<u64>() else {
            eprintln!("replay: line {lineno}: timestamp is not milliseconds");
            continue;
        };
        let bytes = match b64.decode(data) {
            Ok(b) => b,
            Err(e) => {
                eprintln!("replay: line {lineno}: bad base64: {e}");
                continue;
            }
        };
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
