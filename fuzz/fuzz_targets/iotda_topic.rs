//! IoTDA topic classifier, builders, identifier validators and time stamps on
//! arbitrary bytes. Properties: no panic; whatever `parse` accepts, `build`
//! writes back byte for byte; `classify_for` agrees with `parse`; anything a
//! validator accepts contains none of `+ # NUL` (and no `/` for ids); the
//! time parsers round-trip.
#![no_main]
use iotda::time::{parse_event_time, parse_hour_stamp, DateTime};
use iotda::topic::{build, build_kind, build_subscription, Kind, Subscription, Topic};
use iotda::{classify_for, parse, validate};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (selector, rest) = match data.split_first() {
        Some((s, r)) => (*s, r),
        None => return,
    };
    // Topic classifier.
    let parsed = parse(rest);
    if let Some((id, topic)) = parsed {
        assert_ne!(topic, Topic::NotOurs);
        assert!(validate::device_id(id.as_bytes()).is_ok());
        let mut out = vec![0u8; rest.len() + 1];
        let n = build(id.as_bytes(), &topic, &mut out)
            .unwrap_or_else(|e| panic!("parsed {topic:?} of {id:?} but cannot build it: {e:?}"));
        assert_eq!(&out[..n], rest, "build(parse(t)) != t");
        // A buffer one byte short is refused.
        if n > 0 {
            let mut short = vec![0u8; n - 1];
            assert!(build(id.as_bytes(), &topic, &mut short).is_err());
        }
        assert_eq!(classify_for(id.as_bytes(), rest), topic);
        // No wildcard ever reaches a classified topic.
        assert!(!rest.iter().any(|b| matches!(b, b'+' | b'#' | 0)));
    }
    // classify_for with an arbitrary device id split off the input.
    let cut = (selector as usize).min(rest.len());
    let (dev, topic) = rest.split_at(cut);
    let t = classify_for(dev, topic);
    match parse(topic) {
        Some((id, p)) if id.as_bytes() == dev => assert_eq!(t, p),
        _ => assert_eq!(t, Topic::NotOurs),
    }

    // Validators.
    for (res, slash_ok) in [
        (validate::device_id(rest), false),
        (validate::request_id(rest), false),
        (validate::topic_name(rest), true),
    ] {
        if let Ok(s) = res {
            assert_eq!(s, rest);
            assert!(core::str::from_utf8(s).is_ok());
            assert!(!s.is_empty() && s.len() <= 128);
            assert!(!s.iter().any(|b| matches!(b, b'+' | b'#' | 0)));
            if !slash_ok {
                assert!(!s.contains(&b'/'));
            } else {
                assert!(!s.starts_with(b"/") && !s.ends_with(b"/") && !s.windows(2).any(|w| w == b"//"));
            }
        }
    }

    // Builders with arbitrary ids/params and buffer sizes: never overrun,
    // and what they build is a valid MQTT topic name that parses back.
    let kind = Kind::from_code(selector % 19);
    let mut out = vec![0u8; (selector as usize) * 2];
    if let Some(kind) = kind {
        if let Ok(n) = build_kind(dev, kind, topic, &mut out) {
            let built = &out[..n];
            let s = core::str::from_utf8(built).expect("built topic is UTF-8");
            mqtt_core::codec::validate::topic_name(s.as_bytes()).expect("built topic is a valid MQTT topic");
            let (id, t) = parse(built).unwrap_or_else(|| panic!("built {s:?} does not parse"));
            assert_eq!(id.as_bytes(), dev);
            assert_eq!(t.kind(), Some(kind), "built {s:?} parses as another kind");
        }
    }
    for sub in Subscription::DEVICE_DEFAULT {
        if let Ok(n) = build_subscription(dev, sub, &mut out) {
            let s = core::str::from_utf8(&out[..n]).expect("UTF-8");
            mqtt_core::codec::validate::topic_filter(s.as_bytes()).expect("valid filter");
        }
    }

    // Time stamps.
    if let Ok(dt) = parse_hour_stamp(rest) {
        assert_eq!(&dt.hour_stamp()[..], rest);
        let secs = dt.to_unix().expect("valid stamp has a unix time");
        assert_eq!(DateTime::from_unix(secs).ok(), Some(dt));
    }
    if let Ok(dt) = parse_event_time(rest) {
        assert_eq!(&dt.event_time()[..], rest);
    }
    if rest.len() >= 8 {
        let secs = i64::from_le_bytes(rest[..8].try_into().unwrap());
        if let Ok(dt) = DateTime::from_unix(secs) {
            assert_eq!(dt.to_unix(), Ok(secs));
        }
        // Credentials never overrun the caller's buffers.
        let mut cid = vec![0u8; selector as usize];
        let mut user = vec![0u8; selector as usize / 2];
        let mut pw = [0u8; iotda::PASSWORD_LEN];
        if let Ok(c) = iotda::credentials(
            dev,
            topic,
            secs,
            iotda::SignType::NoTimestampCheck,
            &mut cid,
            &mut user,
            &mut pw,
        ) {
            assert!(c.client_id_len <= cid.len() && c.username_len <= user.len());
            assert!(iotda::verify_password(&c.timestamp, topic, &pw));
            assert!(pw.iter().all(|b| b.is_ascii_hexdigit()));
        }
    }
});
