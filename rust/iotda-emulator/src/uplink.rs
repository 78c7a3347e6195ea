//! What the platform does with a device's PUBLISH and SUBSCRIBE, before
//! anything is recorded: IoTDA's topic rules and limits.
//!
//! Sources (see the crate README for the full list):
//! - devg iot_02_2200 (MQTT usage limits): publishes over 1 MB are rejected;
//!   50 uplink messages per second and connection; 100 subscriptions per
//!   connection; custom topics at most 128 bytes; a device publishes and
//!   subscribes to its own topics only.
//! - api iot_06_v5_3010 / iot_06_v5_3016: `?request_id={request_id}` may
//!   end a report's topic.
//! - usermanual iot_02_9999: custom topics not starting with `$oc` are
//!   allowed by default (policy `system_default_policy`).
//! - usermanual iot_01_0326: a property report is at most 64 KB.

use std::time::{Duration, Instant};

use crate::config::Limits;

/// Where an uplink's topic points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted<'a> {
    /// The topic without its `?request_id=` suffix.
    pub topic: &'a str,
    pub request_id: Option<&'a str>,
    /// A custom topic (`$oc/devices/{id}/user/...` or not starting with `$oc`).
    pub custom: bool,
}

/// The verdict on one PUBLISH.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict<'a> {
    Accept(Accepted<'a>),
    /// Dropped: not recorded, no PUBACK; the connection stays.
    Reject(String),
    /// The connection is closed.
    Close(String),
}

fn own_rest<'a>(device_id: &str, topic: &'a str) -> Option<&'a str> {
    topic
        .strip_prefix("$oc/devices/")?
        .strip_prefix(device_id)?
        .strip_prefix('/')
}

/// Splits `topic?request_id=X`.
pub fn split_request_id(topic: &str) -> (&str, Option<&str>) {
    match topic.split_once(iotda::topic::REQUEST_ID_QUERY) {
        Some((t, id)) => (t, Some(id)),
        None => (topic, None),
    }
}

/// The topic and size rules for a PUBLISH from `device_id`.
pub fn check_publish<'a>(
    device_id: &str,
    topic: &'a str,
    payload_len: usize,
    limits: &Limits,
) -> Verdict<'a> {
    let (bare, request_id) = split_request_id(topic);
    let custom = match own_rest(device_id, bare) {
        Some(rest) => rest.starts_with("user/"),
        None if topic.starts_with("$oc") => {
            return Verdict::Close(format!(
                "PUBLISH on {topic}: a device may only publish on $oc/devices/{device_id}/..."
            ))
        }
        None => true,
    };
    if payload_len > limits.max_payload {
        return Verdict::Reject(format!(
            "PUBLISH of {payload_len} bytes on {topic}: over the {} byte limit",
            limits.max_payload
        ));
    }
    if custom && topic.len() > limits.max_custom_topic {
        return Verdict::Reject(format!(
            "custom topic of {} bytes: over the {} byte limit",
            topic.len(),
            limits.max_custom_topic
        ));
    }
    Verdict::Accept(Accepted {
        topic: bare,
        request_id,
        custom,
    })
}

/// The subscription rules for one filter (`Err`: SUBACK 0x80, with why).
pub fn check_filter(device_id: &str, filter: &str, limits: &Limits) -> Result<(), String> {
    if let Some(rest) = own_rest(device_id, filter) {
        if rest.starts_with("user/") && filter.len() > limits.max_custom_topic {
            return Err(format!(
                "custom topic filter over {} bytes",
                limits.max_custom_topic
            ));
        }
        return Ok(());
    }
    if filter.starts_with("$oc") {
        return Err(format!("outside $oc/devices/{device_id}/"));
    }
    if filter.starts_with('#') || filter.starts_with('+') {
        return Err("a filter starting with a wildcard is not a custom topic".into());
    }
    if filter.len() > limits.max_custom_topic {
        return Err(format!(
            "custom topic filter over {} bytes",
            limits.max_custom_topic
        ));
    }
    Ok(())
}

/// Uplinks per second on one connection: a one-second window opened by
/// the first uplink after the previous window ended.
#[derive(Debug, Default)]
pub struct RateWindow {
    start: Option<Instant>,
    count: u32,
}

impl RateWindow {
    /// Counts one uplink at `now`; false if it is over `per_sec`.
    pub fn allow(&mut self, now: Instant, per_sec: u32) -> bool {
        let expired = self
            .start
            .is_none_or(|s| now.duration_since(s) >= Duration::from_secs(1));
        if expired {
            self.start = Some(now);
            self.count = 0;
        }
        if self.count >= per_sec {
            return false;
        }
        self.count += 1;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn publish_topics() {
        let l = Limits::default();
        let ok = |t| matches!(check_publish("d1", t, 10, &l), Verdict::Accept(_));
        assert!(ok("$oc/devices/d1/sys/properties/report"));
        assert!(ok("/v1/test/hello"));
        assert!(ok("plain/topic"));
        assert!(matches!(
            check_publish("d1", "$oc/devices/d2/sys/messages/up", 1, &l),
            Verdict::Close(_)
        ));
        assert!(matches!(
            check_publish("d1", "$oc/devices/d1x/sys/messages/up", 1, &l),
            Verdict::Close(_)
        ));
        let r = check_publish(
            "d1",
            "$oc/devices/d1/sys/properties/report?request_id=42",
            1,
            &l,
        );
        assert_eq!(
            r,
            Verdict::Accept(Accepted {
                topic: "$oc/devices/d1/sys/properties/report",
                request_id: Some("42"),
                custom: false
            })
        );
        let long = format!("/{}", "a".repeat(128));
        assert!(matches!(
            check_publish("d1", &long, 1, &l),
            Verdict::Reject(_)
        ));
        assert!(ok(&long[..128]));
        assert!(matches!(
            check_publish("d1", "x", 1024 * 1024 + 1, &l),
            Verdict::Reject(_)
        ));
    }

    #[test]
    fn filters() {
        let l = Limits::default();
        assert!(check_filter("d1", "$oc/devices/d1/sys/#", &l).is_ok());
        assert!(check_filter("d1", "/v1/test/hello", &l).is_ok());
        assert!(check_filter("d1", "$oc/devices/+/sys/#", &l).is_err());
        assert!(check_filter("d1", "#", &l).is_err());
        assert!(check_filter("d1", &"a".repeat(129), &l).is_err());
    }

    #[test]
    fn rate() {
        let mut w = RateWindow::default();
        let t0 = Instant::now();
        assert!((0..50).all(|_| w.allow(t0, 50)));
        assert!(!w.allow(t0, 50));
        assert!(w.allow(t0 + Duration::from_millis(1001), 50));
    }
}
