//! The device shadow: reports feed the reported side (with the device's
//! `event_time`, to the millisecond when given so), the desired side is set
//! by the application and pushed to the device as a property set.
//!
//! Sources: Device Shadow (usermanual iot_01_0049): "If the device is
//! online, the desired properties are synchronized to the device
//! immediately. If the device is offline, the desired properties are
//! synchronized to the device when the device goes online or reports data";
//! Device Reporting Properties (api iot_06_v5_3010 / iot_06_v5_7010):
//! `event_time` is `yyyyMMdd'T'HHmmss'Z'` or `yyyy-MM-dd'T'HH:mm:ss.SSS'Z'`,
//! the receive time only when it is missing or malformed.

use serde_json::{json, Map, Value};

use crate::state::{event_time_now, Device, State};

/// `yyyy-MM-dd'T'HH:mm:ss.SSS'Z'`, e.g. `2021-08-13T10:10:10.555Z`.
pub fn is_event_time_ms(t: &str) -> bool {
    let b = t.as_bytes();
    if b.len() != 24 {
        return false;
    }
    let fixed = [
        (4, b'-'),
        (7, b'-'),
        (10, b'T'),
        (13, b':'),
        (16, b':'),
        (19, b'.'),
        (23, b'Z'),
    ];
    if fixed.iter().any(|&(i, c)| b[i] != c) {
        return false;
    }
    let digits = |r: std::ops::Range<usize>| -> Option<u32> {
        b[r].iter().try_fold(0u32, |acc, &c| {
            c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0'))
        })
    };
    let (Some(_y), Some(mo), Some(d), Some(h), Some(mi), Some(s), Some(_ms)) = (
        digits(0..4),
        digits(5..7),
        digits(8..10),
        digits(11..13),
        digits(14..16),
        digits(17..19),
        digits(20..23),
    ) else {
        return false;
    };
    (1..=12).contains(&mo) && (1..=31).contains(&d) && h < 24 && mi < 60 && s < 61
}

/// The event time kept for a report: the device's when well formed (either
/// documented format, unchanged), else the receive time.
pub fn report_time(given: Option<&str>) -> String {
    given
        .filter(|t| iotda::time::parse_event_time(t.as_bytes()).is_ok() || is_event_time_ms(t))
        .map(str::to_string)
        .unwrap_or_else(event_time_now)
}

/// Applies `from` to `into`; a `null` value removes the property.
pub fn merge(into: &mut Map<String, Value>, from: Map<String, Value>) {
    for (k, v) in from {
        if v.is_null() {
            into.remove(&k);
        } else {
            into.insert(k, v);
        }
    }
}

/// A property report feeds the shadow's reported side.
pub fn apply_report(dev: &mut Device, v: &Value) {
    let Some(services) = v.get("services").and_then(Value::as_array) else {
        return;
    };
    for s in services {
        let (Some(sid), Some(props)) = (
            s.get("service_id").and_then(Value::as_str),
            s.get("properties").and_then(Value::as_object),
        ) else {
            continue;
        };
        let t = report_time(s.get("event_time").and_then(Value::as_str));
        let svc = dev.shadow.entry(sid.to_string()).or_default();
        merge(&mut svc.reported, props.clone());
        svc.reported_time = Some(t);
        svc.version += 1;
    }
}

/// Desired properties whose value differs from the reported one, per
/// service (the services list of a property set), or `None` if all match.
pub fn desired_delta(dev: &Device) -> Option<Vec<Value>> {
    let services: Vec<Value> = dev
        .shadow
        .iter()
        .filter_map(|(sid, svc)| {
            let diff: Map<String, Value> = svc
                .desired
                .iter()
                .filter(|(k, v)| svc.reported.get(*k) != Some(*v))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            (!diff.is_empty()).then(|| json!({"service_id": sid, "properties": diff}))
        })
        .collect();
    (!services.is_empty()).then_some(services)
}

/// Sends the desired delta as a property set
/// (`sys/properties/set/request_id=...`) if the device is online, subscribed
/// and its reported state differs. Returns the request id sent.
pub fn push_desired(st: &mut State, shared: &crate::Shared, device_id: &str) -> Option<String> {
    let dev = st.devices.get(device_id)?;
    dev.conn.as_ref()?;
    let services = desired_delta(dev)?;
    let request_id = shared.new_uuid();
    let topic = format!("$oc/devices/{device_id}/sys/properties/set/request_id={request_id}");
    dev.match_qos(&topic)?;
    let body = json!({"object_device_id": device_id, "services": services});
    let dl = shared.next_id();
    st.desired_requests
        .insert((device_id.to_string(), request_id.clone()));
    st.deliver(dl, device_id, &topic, body.to_string().into_bytes(), false);
    crate::log!("{device_id}: desired shadow pushed as property set {request_id}");
    Some(request_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn millisecond_event_times() {
        assert!(is_event_time_ms("2021-08-13T10:10:10.555Z"));
        assert!(!is_event_time_ms("2021-08-13T10:10:10.555"));
        assert!(!is_event_time_ms("2021-13-13T10:10:10.555Z"));
        assert!(!is_event_time_ms("2021-08-13 10:10:10.555Z"));
        assert!(!is_event_time_ms("2021-08-13T24:10:10.555Z"));
        assert_eq!(
            report_time(Some("2021-08-13T10:10:10.555Z")),
            "2021-08-13T10:10:10.555Z"
        );
        assert_eq!(report_time(Some("20151212T121212Z")), "20151212T121212Z");
        assert_ne!(report_time(Some("yesterday")), "yesterday");
        assert_eq!(report_time(None).len(), 16);
    }
}
