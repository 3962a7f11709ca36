//! An event-stream (Server-Sent Events) parser that is fed arbitrary network chunks.
//!
//! It follows the WHATWG event-stream rules: lines end with LF, CR or CRLF (a CRLF may be
//! split across two chunks, and a UTF-8 character across two chunks too); `data` lines
//! join with LF; a line starting with `:` is a comment; an empty line dispatches; a field
//! without a colon is a field name with an empty value; `retry` takes only digits; an
//! `id` containing NUL is ignored. Pode's quirks (CRLF everywhere, a lone `retry:` line
//! before the first event) need nothing special under these rules.

/// One dispatched event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SseEvent {
    /// `event:` value, or "message" when none was given.
    pub event: String,
    pub data: String,
    /// The last event id seen on the stream at dispatch time.
    pub last_event_id: String,
}

/// Lines longer than this are dropped rather than buffered without bound.
pub const MAX_LINE_BYTES: usize = 64 * 1024;

#[derive(Clone, Debug, Default)]
pub struct SseParser {
    line: Vec<u8>,
    /// The previous chunk ended in CR: an LF at the start of the next one belongs to it.
    after_cr: bool,
    /// The current line grew past MAX_LINE_BYTES: skip to its end.
    overlong: bool,
    started: bool,
    event: String,
    data: String,
    has_data: bool,
    last_event_id: String,
    retry_ms: Option<u64>,
    dropped_lines: u64,
    /// The current event's data grew past MAX_LINE_BYTES over several lines: drop it whole.
    oversized: bool,
}

impl SseParser {
    /// Bytes held for the line and the event being read (bounded by `MAX_LINE_BYTES`).
    pub fn buffered(&self) -> usize {
        self.line.len() + self.data.len() + self.event.len() + self.last_event_id.len()
    }

    pub fn new() -> Self {
        Self::default()
    }

    /// The reconnection delay the server asked for, if any.
    pub fn retry_ms(&self) -> Option<u64> {
        self.retry_ms
    }

    pub fn last_event_id(&self) -> &str {
        &self.last_event_id
    }

    /// How many over-long lines were dropped.
    pub fn dropped_lines(&self) -> u64 {
        self.dropped_lines
    }

    /// Feeds one chunk; returns the events it completed.
    pub fn feed(&mut self, chunk: &[u8]) -> Vec<SseEvent> {
        let mut out = Vec::new();
        let mut bytes = chunk;
        if self.after_cr {
            self.after_cr = false;
            if let Some(b'\n') = bytes.first() {
                bytes = &bytes[1..];
            }
        }
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'\r' => {
                    self.end_line(&mut out);
                    if i + 1 == bytes.len() {
                        self.after_cr = true;
                    } else if bytes[i + 1] == b'\n' {
                        i += 1;
                    }
                }
                b'\n' => self.end_line(&mut out),
                b => {
                    if self.line.len() >= MAX_LINE_BYTES {
                        if !self.overlong {
                            self.overlong = true;
                            self.dropped_lines += 1;
                        }
                    } else {
                        self.line.push(b);
                    }
                }
            }
            i += 1;
        }
        out
    }

    /// Forgets a half-received event (the connection dropped). The last event id and the
    /// retry delay survive, as the standard says.
    pub fn reset(&mut self) {
        let (id, retry, dropped) = (std::mem::take(&mut self.last_event_id), self.retry_ms, self.dropped_lines);
        *self = SseParser { last_event_id: id, retry_ms: retry, dropped_lines: dropped, ..Default::default() };
    }

    fn end_line(&mut self, out: &mut Vec<SseEvent>) {
        let raw = std::mem::take(&mut self.line);
        if std::mem::take(&mut self.overlong) {
            return;
        }
        let mut line = String::from_utf8_lossy(&raw).into_owned();
        if !self.started {
            self.started = true;
            if let Some(rest) = line.strip_prefix('\u{feff}') {
                line = rest.to_owned();
            }
        }
        if line.is_empty() {
            self.dispatch(out);
            return;
        }
        if line.starts_with(':') {
            return;
        }
        let (field, value) = match line.find(':') {
            Some(pos) => {
                let v = &line[pos + 1..];
                (&line[..pos], v.strip_prefix(' ').unwrap_or(v))
            }
            None => (line.as_str(), ""),
        };
        match field {
            "event" => self.event = value.to_owned(),
            "data" => {
                if self.oversized || self.data.len() + value.len() + 1 > MAX_LINE_BYTES {
                    self.oversized = true;
                    self.data.clear();
                    return;
                }
                if self.has_data {
                    self.data.push('\n');
                }
                self.data.push_str(value);
                self.has_data = true;
            }
            "id" if !value.contains('\0') => self.last_event_id = value.to_owned(),
            "retry" if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) => {
                self.retry_ms = value.parse().ok();
            }
            _ => {}
        }
    }

    fn dispatch(&mut self, out: &mut Vec<SseEvent>) {
        let event = std::mem::take(&mut self.event);
        let data = std::mem::take(&mut self.data);
        if std::mem::take(&mut self.oversized) {
            self.has_data = false;
            self.dropped_lines += 1;
            return;
        }
        if !std::mem::take(&mut self.has_data) {
            return;
        }
        out.push(SseEvent {
            event: if event.is_empty() { "message".to_owned() } else { event },
            data,
            last_event_id: self.last_event_id.clone(),
        });
    }
}
