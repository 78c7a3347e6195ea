//! The live trace: every login, logout, uplink, downlink and device change
//! as one JSON event, kept (the last `KEEP`) for the console's first load
//! and broadcast to its server-sent-events stream.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use serde_json::{json, Map, Value};
use tokio::sync::broadcast;

use crate::state::now_ms;

/// Events kept for a console that connects later.
pub const KEEP: usize = 500;

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Online,
    Offline,
    Uplink,
    /// An uplink refused by a limit (recorded for the console only).
    Rejected,
    Downlink,
    /// Registered, deleted, shadow or message status changed.
    Device,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Online => "online",
            Kind::Offline => "offline",
            Kind::Uplink => "uplink",
            Kind::Rejected => "rejected",
            Kind::Downlink => "downlink",
            Kind::Device => "device",
        }
    }
}

pub struct Trace {
    tx: broadcast::Sender<Value>,
    recent: Mutex<VecDeque<Value>>,
    seq: AtomicU64,
}

impl Default for Trace {
    fn default() -> Self {
        let (tx, _) = broadcast::channel(1024);
        Trace {
            tx,
            recent: Mutex::new(VecDeque::new()),
            seq: AtomicU64::new(1),
        }
    }
}

/// A payload for the console: UTF-8 text as is (cut after 4 KB), else base64.
pub fn payload_text(p: &[u8]) -> (String, &'static str) {
    const CUT: usize = 4096;
    match std::str::from_utf8(p) {
        Ok(s) if s.len() > CUT => {
            let end = (0..=CUT)
                .rev()
                .find(|&i| s.is_char_boundary(i))
                .unwrap_or(0);
            (format!("{}... ({} bytes)", &s[..end], p.len()), "utf8")
        }
        Ok(s) => (s.to_string(), "utf8"),
        Err(_) => (crate::b64_encode(&p[..p.len().min(CUT)]), "base64"),
    }
}

impl Trace {
    /// Records and broadcasts one event; `fields` (an object) is merged in
    /// (its own `seq`, `time_ms`, `kind`, `device_id` never override
    /// these). Numbering, keeping and sending happen under one lock, so
    /// subscribers see events in `seq` order.
    pub fn emit(&self, kind: Kind, device_id: &str, fields: Value) {
        let mut ev = match fields {
            Value::Object(f) => f,
            _ => Map::new(),
        };
        ev.insert("time_ms".into(), json!(now_ms()));
        ev.insert("kind".into(), json!(kind.name()));
        ev.insert("device_id".into(), json!(device_id));
        let mut r = self.recent.lock().unwrap_or_else(|p| p.into_inner());
        ev.insert(
            "seq".into(),
            json!(self.seq.fetch_add(1, Ordering::Relaxed)),
        );
        let ev = Value::Object(ev);
        if r.len() >= KEEP {
            r.pop_front();
        }
        r.push_back(ev.clone());
        let _ = self.tx.send(ev);
    }

    /// The kept events, oldest first.
    pub fn recent(&self) -> Vec<Value> {
        let r = self.recent.lock().unwrap_or_else(|p| p.into_inner());
        r.iter().cloned().collect()
    }

    /// The kept events and a receiver for every later one (none missed,
    /// none twice).
    pub fn follow(&self) -> (Vec<Value>, broadcast::Receiver<Value>) {
        let r = self.recent.lock().unwrap_or_else(|p| p.into_inner());
        (r.iter().cloned().collect(), self.tx.subscribe())
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Value> {
        self.tx.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_last_events_in_order() {
        let t = Trace::default();
        let mut rx = t.subscribe();
        for i in 0..(KEEP + 3) {
            t.emit(Kind::Uplink, "d", json!({"n": i}));
        }
        let r = t.recent();
        assert_eq!(r.len(), KEEP);
        assert_eq!(r[0]["n"], 3);
        assert_eq!(r[KEEP - 1]["kind"], "uplink");
        assert_eq!(rx.try_recv().unwrap()["n"], 0);
    }

    #[test]
    fn fields_do_not_override_the_event_number() {
        let t = Trace::default();
        t.emit(Kind::Uplink, "d", json!({"seq": 99, "kind": "x"}));
        t.emit(Kind::Uplink, "d", json!({"seq": 0}));
        let (r, _) = t.follow();
        assert_eq!(
            (r[0]["seq"].as_u64(), r[1]["seq"].as_u64()),
            (Some(1), Some(2))
        );
        assert_eq!(r[0]["kind"], "uplink");
    }

    #[test]
    fn payloads() {
        assert_eq!(payload_text(b"hi"), ("hi".to_string(), "utf8"));
        assert_eq!(payload_text(&[0xff, 0]), ("/wA=".to_string(), "base64"));
        let big = vec![b'a'; 5000];
        assert!(payload_text(&big).0.ends_with("(5000 bytes)"));
        let wide = "é".repeat(3000);
        let (t, enc) = payload_text(wide.as_bytes());
        assert_eq!(enc, "utf8");
        assert!(t.starts_with("éé") && t.ends_with("(6000 bytes)"));
    }
}
