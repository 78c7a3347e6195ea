//! IoTDA system topics: builders into caller buffers and a zero-copy
//! classifier.
//!
//! Every topic lives under `T = $oc/devices/{device_id}`:
//! `T/sys/...` for system topics and `T/user/{name}` for custom ones.

use crate::validate;
use crate::write::concat;
use crate::Error;

/// Prefix of every device topic.
pub const PREFIX: &str = "$oc/devices/";
/// What follows the device id in a request/response topic before the id.
pub const REQUEST_ID_EQ: &str = "request_id=";

/// Which parameter a topic kind carries after its fixed path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Param {
    None,
    RequestId,
    Name,
}

/// Direction of a topic, seen from the device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Device publishes.
    Up,
    /// Platform publishes, device subscribes.
    Down,
    /// Custom topics may go either way.
    Both,
}

/// The topic kinds, data-free; the discriminants are stable codes for a C ABI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Kind {
    MessagesUp = 1,
    MessagesDown = 2,
    PropertiesReport = 3,
    GatewaySubDevicesReport = 4,
    PropertiesSet = 5,
    PropertiesSetResponse = 6,
    PropertiesGet = 7,
    PropertiesGetResponse = 8,
    ShadowGet = 9,
    ShadowGetResponse = 10,
    Command = 11,
    CommandResponse = 12,
    EventsUp = 13,
    EventsDown = 14,
    BootstrapUp = 15,
    BootstrapDown = 16,
    User = 17,
}

impl Kind {
    /// Every kind, in code order.
    pub const ALL: [Kind; 17] = [
        Kind::MessagesUp,
        Kind::MessagesDown,
        Kind::PropertiesReport,
        Kind::GatewaySubDevicesReport,
        Kind::PropertiesSet,
        Kind::PropertiesSetResponse,
        Kind::PropertiesGet,
        Kind::PropertiesGetResponse,
        Kind::ShadowGet,
        Kind::ShadowGetResponse,
        Kind::Command,
        Kind::CommandResponse,
        Kind::EventsUp,
        Kind::EventsDown,
        Kind::BootstrapUp,
        Kind::BootstrapDown,
        Kind::User,
    ];

    /// The path after `$oc/devices/{device_id}/`, up to the parameter (for
    /// request-id kinds it ends in `request_id=`, for [`Kind::User`] in `/`).
    pub fn path(self) -> &'static [u8] {
        // one blob indexed by code, not a table of pointers: flash
        nth_path(
            b"\0\
              sys/messages/up\0\
              sys/messages/down\0\
              sys/properties/report\0\
              sys/gateway/sub_devices/properties/report\0\
              sys/properties/set/request_id=\0\
              sys/properties/set/response/request_id=\0\
              sys/properties/get/request_id=\0\
              sys/properties/get/response/request_id=\0\
              sys/shadow/get/request_id=\0\
              sys/shadow/get/response/request_id=\0\
              sys/commands/request_id=\0\
              sys/commands/response/request_id=\0\
              sys/events/up\0\
              sys/events/down\0\
              sys/bootstrap/up\0\
              sys/bootstrap/down\0\
              user/\0\
",
            self as usize,
        )
    }

    /// The parameter that follows [`Kind::path`].
    pub const fn param(self) -> Param {
        match self {
            Kind::PropertiesSet
            | Kind::PropertiesSetResponse
            | Kind::PropertiesGet
            | Kind::PropertiesGetResponse
            | Kind::ShadowGet
            | Kind::ShadowGetResponse
            | Kind::Command
            | Kind::CommandResponse => Param::RequestId,
            Kind::User => Param::Name,
            _ => Param::None,
        }
    }

    /// Who publishes on this topic.
    pub const fn direction(self) -> Direction {
        match self {
            Kind::MessagesDown
            | Kind::PropertiesSet
            | Kind::PropertiesGet
            | Kind::ShadowGetResponse
            | Kind::Command
            | Kind::EventsDown
            | Kind::BootstrapDown => Direction::Down,
            Kind::User => Direction::Both,
            _ => Direction::Up,
        }
    }

    /// The kind with code `code`.
    pub fn from_code(code: u8) -> Option<Kind> {
        // ALL is in code order from 1: an index, not a search
        Kind::ALL.get(usize::from(code).wrapping_sub(1)).copied()
    }
}

/// A classified topic; parameters are borrowed from the topic string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Topic<'a> {
    // Downlinks (what the device receives).
    MessagesDown,
    Command {
        request_id: &'a str,
    },
    PropertiesSet {
        request_id: &'a str,
    },
    PropertiesGet {
        request_id: &'a str,
    },
    ShadowGetResponse {
        request_id: &'a str,
    },
    EventsDown,
    BootstrapDown,
    /// `T/user/{name}`; `name` may contain `/` between non-empty levels.
    User {
        name: &'a str,
    },
    // Uplinks (what the device publishes; for the emulator).
    MessagesUp,
    PropertiesReport,
    GatewaySubDevicesReport,
    PropertiesSetResponse {
        request_id: &'a str,
    },
    PropertiesGetResponse {
        request_id: &'a str,
    },
    ShadowGet {
        request_id: &'a str,
    },
    CommandResponse {
        request_id: &'a str,
    },
    EventsUp,
    BootstrapUp,
    /// Not an IoTDA topic of this device: another device's tree, an unknown
    /// path, or a malformed request id / name.
    NotOurs,
}

impl<'a> Topic<'a> {
    /// The kind, or `None` for [`Topic::NotOurs`].
    pub const fn kind(&self) -> Option<Kind> {
        Some(match self {
            Topic::MessagesDown => Kind::MessagesDown,
            Topic::Command { .. } => Kind::Command,
            Topic::PropertiesSet { .. } => Kind::PropertiesSet,
            Topic::PropertiesGet { .. } => Kind::PropertiesGet,
            Topic::ShadowGetResponse { .. } => Kind::ShadowGetResponse,
            Topic::EventsDown => Kind::EventsDown,
            Topic::BootstrapDown => Kind::BootstrapDown,
            Topic::User { .. } => Kind::User,
            Topic::MessagesUp => Kind::MessagesUp,
            Topic::PropertiesReport => Kind::PropertiesReport,
            Topic::GatewaySubDevicesReport => Kind::GatewaySubDevicesReport,
            Topic::PropertiesSetResponse { .. } => Kind::PropertiesSetResponse,
            Topic::PropertiesGetResponse { .. } => Kind::PropertiesGetResponse,
            Topic::ShadowGet { .. } => Kind::ShadowGet,
            Topic::CommandResponse { .. } => Kind::CommandResponse,
            Topic::EventsUp => Kind::EventsUp,
            Topic::BootstrapUp => Kind::BootstrapUp,
            Topic::NotOurs => return None,
        })
    }

    /// The request id of a request/response topic.
    pub const fn request_id(&self) -> Option<&'a str> {
        match *self {
            Topic::Command { request_id }
            | Topic::PropertiesSet { request_id }
            | Topic::PropertiesGet { request_id }
            | Topic::ShadowGetResponse { request_id }
            | Topic::PropertiesSetResponse { request_id }
            | Topic::PropertiesGetResponse { request_id }
            | Topic::ShadowGet { request_id }
            | Topic::CommandResponse { request_id } => Some(request_id),
            _ => None,
        }
    }

    /// The parameter (request id or custom name), `""` if none.
    pub const fn param(&self) -> &'a str {
        match *self {
            Topic::User { name } => name,
            _ => match self.request_id() {
                Some(r) => r,
                None => "",
            },
        }
    }

    /// The topic of `kind` carrying `param` (ignored by parameterless kinds;
    /// not validated here, builders validate).
    pub const fn from_kind(kind: Kind, param: &'a str) -> Topic<'a> {
        let request_id = param;
        match kind {
            Kind::MessagesUp => Topic::MessagesUp,
            Kind::MessagesDown => Topic::MessagesDown,
            Kind::PropertiesReport => Topic::PropertiesReport,
            Kind::GatewaySubDevicesReport => Topic::GatewaySubDevicesReport,
            Kind::PropertiesSet => Topic::PropertiesSet { request_id },
            Kind::PropertiesSetResponse => Topic::PropertiesSetResponse { request_id },
            Kind::PropertiesGet => Topic::PropertiesGet { request_id },
            Kind::PropertiesGetResponse => Topic::PropertiesGetResponse { request_id },
            Kind::ShadowGet => Topic::ShadowGet { request_id },
            Kind::ShadowGetResponse => Topic::ShadowGetResponse { request_id },
            Kind::Command => Topic::Command { request_id },
            Kind::CommandResponse => Topic::CommandResponse { request_id },
            Kind::EventsUp => Topic::EventsUp,
            Kind::EventsDown => Topic::EventsDown,
            Kind::BootstrapUp => Topic::BootstrapUp,
            Kind::BootstrapDown => Topic::BootstrapDown,
            Kind::User => Topic::User { name: param },
        }
    }

    /// For a downlink request, the uplink response topic kind
    /// (command -> command response, properties set/get -> their responses).
    pub const fn response_kind(&self) -> Option<Kind> {
        match self {
            Topic::Command { .. } => Some(Kind::CommandResponse),
            Topic::PropertiesSet { .. } => Some(Kind::PropertiesSetResponse),
            Topic::PropertiesGet { .. } => Some(Kind::PropertiesGetResponse),
            _ => None,
        }
    }
}

/// Write `$oc/devices/{device_id}/{path}{param}` for `kind` into `out`;
/// `param` is the request id or custom name (ignored, and may be empty, for
/// parameterless kinds). Returns the length.
pub fn build_kind(
    device_id: &[u8],
    kind: Kind,
    param: &[u8],
    out: &mut [u8],
) -> Result<usize, Error> {
    let id = validate::device_id(device_id).map_err(Error::DeviceId)?;
    let param: &[u8] = match kind.param() {
        Param::None => b"",
        Param::RequestId => validate::request_id(param).map_err(Error::RequestId)?,
        Param::Name => validate::topic_name(param).map_err(Error::TopicName)?,
    };
    concat(out, &[PREFIX.as_bytes(), id, b"/", kind.path(), param])
}

/// Write `topic` for `device_id` into `out`; the inverse of [`parse`].
pub fn build(device_id: &[u8], topic: &Topic<'_>, out: &mut [u8]) -> Result<usize, Error> {
    let kind = topic.kind().ok_or(Error::NotBuildable)?;
    build_kind(device_id, kind, topic.param().as_bytes(), out)
}

/// The subscription filters a device needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Subscription {
    /// `T/sys/messages/down`
    MessagesDown = 1,
    /// `T/sys/commands/#`
    Commands = 2,
    /// `T/sys/properties/set/#`
    PropertiesSet = 3,
    /// `T/sys/properties/get/#`
    PropertiesGet = 4,
    /// `T/sys/shadow/get/response/#`
    ShadowGetResponse = 5,
    /// `T/sys/events/down`
    EventsDown = 6,
    /// `T/sys/bootstrap/down` (bootstrap server only)
    BootstrapDown = 7,
}

impl Subscription {
    /// What a device subscribes to on a normal (non-bootstrap) connection.
    pub const DEVICE_DEFAULT: [Subscription; 6] = [
        Subscription::MessagesDown,
        Subscription::Commands,
        Subscription::PropertiesSet,
        Subscription::PropertiesGet,
        Subscription::ShadowGetResponse,
        Subscription::EventsDown,
    ];

    /// The filter after `$oc/devices/{device_id}/`.
    pub fn path(self) -> &'static [u8] {
        nth_path(
            b"\0\
              sys/messages/down\0\
              sys/commands/#\0\
              sys/properties/set/#\0\
              sys/properties/get/#\0\
              sys/shadow/get/response/#\0\
              sys/events/down\0\
              sys/bootstrap/down\0\
",
            self as usize,
        )
    }
}

/// Text number `index` of `blob` (texts each ended by a NUL); empty when out
/// of range.
fn nth_path(blob: &'static [u8], index: usize) -> &'static [u8] {
    // a plain scan: core's Split iterator is compiled out of line
    let (mut start, mut seen) = (0, 0);
    for (at, _) in blob.iter().enumerate().filter(|&(_, &b)| b == 0) {
        if seen == index {
            return blob.get(start..at).unwrap_or_default();
        }
        seen = seen.saturating_add(1);
        start = at.saturating_add(1);
    }
    &[]
}

/// Write the subscription filter `sub` for `device_id` into `out`.
pub fn build_subscription(
    device_id: &[u8],
    sub: Subscription,
    out: &mut [u8],
) -> Result<usize, Error> {
    let id = validate::device_id(device_id).map_err(Error::DeviceId)?;
    concat(out, &[PREFIX.as_bytes(), id, b"/", sub.path()])
}

/// Classify a device topic: `Some((device_id, topic))` for a topic under
/// `$oc/devices/{valid id}/` with a known path and a valid parameter, `None`
/// otherwise (the returned topic is never [`Topic::NotOurs`]).
pub fn parse(topic: &[u8]) -> Option<(&str, Topic<'_>)> {
    let (id, kind, param) = parse_parts(topic)?;
    // already checked as UTF-8; &str for the emulator's typed topics
    let (id, param) = (
        core::str::from_utf8(id).ok()?,
        core::str::from_utf8(param).ok()?,
    );
    Some((id, Topic::from_kind(kind, param)))
}

/// [`parse`] as plain parts: the device id, the kind and its parameter
/// (`""` for parameterless kinds).
fn parse_parts(topic: &[u8]) -> Option<(&[u8], Kind, &[u8])> {
    // bytes, not core::str::from_utf8 of the whole topic: every piece that
    // is not ASCII text of ours is validated as UTF-8 below, and pieces split
    // at ASCII bytes are valid UTF-8 exactly when the whole topic is
    let rest = topic.strip_prefix(PREFIX.as_bytes())?;
    // a byte search, not split_once: core's memchr costs flash
    let slash = rest.iter().position(|&b| b == b'/')?;
    let (id, rest) = (rest.get(..slash)?, rest.get(slash.checked_add(1)?..)?);
    let id = validate::device_id(id).ok()?;
    Kind::ALL.iter().find_map(|&kind| {
        let param = rest.strip_prefix(kind.path())?;
        let param = match kind.param() {
            Param::None => param.is_empty().then_some(&b""[..])?,
            Param::RequestId => validate::request_id(param).ok()?,
            Param::Name => validate::topic_name(param).ok()?,
        };
        Some((id, kind, param))
    })
}

/// Classify `topic` as seen by `device_id`: anything not in that device's
/// tree (another device, unknown path, malformed) is [`Topic::NotOurs`].
pub fn classify_for<'t>(device_id: &[u8], topic: &'t [u8]) -> Topic<'t> {
    match kind_for(device_id, topic).and_then(|(kind, param)| Some((kind, utf8(param)?))) {
        Some((kind, param)) => Topic::from_kind(kind, param),
        None => Topic::NotOurs,
    }
}

/// A parameter already checked as UTF-8, as `&str` for [`Topic`] (the
/// device's own paths keep bytes and never call this).
fn utf8(param: &[u8]) -> Option<&str> {
    core::str::from_utf8(param).ok()
}

/// [`classify_for`] as plain parts: the kind and its parameter, `None` for
/// [`Topic::NotOurs`].
fn kind_for<'t>(device_id: &[u8], topic: &'t [u8]) -> Option<(Kind, &'t [u8])> {
    match parse_parts(topic) {
        Some((id, kind, param)) if id == device_id => Some((kind, param)),
        _ => None,
    }
}

/// The query IoTDA accepts after an uplink topic that has no request id of
/// its own (`.../sys/properties/report?request_id=42`).
pub const REQUEST_ID_QUERY: &str = "?request_id=";

/// [`classify_for`], also accepting a `?request_id=` suffix: the topic
/// before it is classified and the request id is returned with it. A suffix
/// on a kind that carries its own request id or name, or an invalid request
/// id, is [`Topic::NotOurs`].
pub fn classify_with_query<'t>(device_id: &[u8], topic: &'t [u8]) -> (Topic<'t>, Option<&'t str>) {
    match classify_kind(device_id, topic).and_then(|(kind, param)| Some((kind, utf8(param)?))) {
        // a parameterless kind's parameter is the suffix's request id, if any
        Some((kind, rid)) if matches!(kind.param(), Param::None) => {
            (Topic::from_kind(kind, ""), (!rid.is_empty()).then_some(rid))
        }
        Some((kind, param)) => (Topic::from_kind(kind, param), None),
        None => (Topic::NotOurs, None),
    }
}

/// [`classify_with_query`] as plain parts, without building a [`Topic`]:
/// the kind, and the request id or name the topic carries or else the
/// suffix's request id (`""` when there is neither); `None` for
/// [`Topic::NotOurs`].
pub fn classify_kind<'t>(device_id: &[u8], topic: &'t [u8]) -> Option<(Kind, &'t [u8])> {
    // the last '?': a request id has none of its own
    let split = topic.iter().rposition(|&b| b == b'?').and_then(|at| {
        let (base, rest) = topic.split_at(at);
        Some((base, rest.strip_prefix(REQUEST_ID_QUERY.as_bytes())?))
    });
    let Some((base, rid)) = split else {
        return kind_for(device_id, topic);
    };
    let (kind, _) = kind_for(device_id, base)?;
    match (kind.param(), validate::request_id(rid)) {
        (Param::None, Ok(rid)) => Some((kind, rid)),
        _ => None,
    }
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects
)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::string::String;
    use std::vec::Vec;

    const ID: &[u8] = b"5fbbb784b4ec2202e982e643_868540050954037";

    fn built(kind: Kind, param: &[u8]) -> String {
        let mut buf = [0u8; 512];
        let n = build_kind(ID, kind, param, &mut buf).unwrap();
        String::from_utf8(buf[..n].to_vec()).unwrap()
    }

    #[test]
    fn every_system_topic() {
        let t = "$oc/devices/5fbbb784b4ec2202e982e643_868540050954037";
        let cases: &[(Kind, &[u8], &str)] = &[
            (Kind::MessagesUp, b"", "/sys/messages/up"),
            (Kind::MessagesDown, b"", "/sys/messages/down"),
            (Kind::PropertiesReport, b"", "/sys/properties/report"),
            (
                Kind::GatewaySubDevicesReport,
                b"",
                "/sys/gateway/sub_devices/properties/report",
            ),
            (
                Kind::PropertiesSet,
                b"42",
                "/sys/properties/set/request_id=42",
            ),
            (
                Kind::PropertiesSetResponse,
                b"42",
                "/sys/properties/set/response/request_id=42",
            ),
            (
                Kind::PropertiesGet,
                b"a-b",
                "/sys/properties/get/request_id=a-b",
            ),
            (
                Kind::PropertiesGetResponse,
                b"a-b",
                "/sys/properties/get/response/request_id=a-b",
            ),
            (Kind::ShadowGet, b"7", "/sys/shadow/get/request_id=7"),
            (
                Kind::ShadowGetResponse,
                b"7",
                "/sys/shadow/get/response/request_id=7",
            ),
            (Kind::Command, b"c1", "/sys/commands/request_id=c1"),
            (
                Kind::CommandResponse,
                b"c1",
                "/sys/commands/response/request_id=c1",
            ),
            (Kind::EventsUp, b"", "/sys/events/up"),
            (Kind::EventsDown, b"", "/sys/events/down"),
            (Kind::BootstrapUp, b"", "/sys/bootstrap/up"),
            (Kind::BootstrapDown, b"", "/sys/bootstrap/down"),
            (Kind::User, b"temp/alarm", "/user/temp/alarm"),
        ];
        assert_eq!(cases.len(), Kind::ALL.len());
        for &(kind, param, suffix) in cases {
            let s = built(kind, param);
            assert_eq!(s, std::format!("{t}{suffix}"));
            let (id, topic) = parse(s.as_bytes()).unwrap();
            assert_eq!(id.as_bytes(), ID);
            assert_eq!(topic.kind(), Some(kind));
            if kind.param() != Param::None {
                assert_eq!(topic.param().as_bytes(), param);
            }
            assert_eq!(Kind::from_code(kind as u8), Some(kind));
        }
        assert_eq!(Kind::from_code(0), None);
        assert_eq!(Kind::from_code(18), None);
    }

    #[test]
    fn subscriptions() {
        let mut buf = [0u8; 128];
        let want = [
            "$oc/devices/d/sys/messages/down",
            "$oc/devices/d/sys/commands/#",
            "$oc/devices/d/sys/properties/set/#",
            "$oc/devices/d/sys/properties/get/#",
            "$oc/devices/d/sys/shadow/get/response/#",
            "$oc/devices/d/sys/events/down",
        ];
        for (sub, w) in Subscription::DEVICE_DEFAULT.iter().zip(want) {
            let n = build_subscription(b"d", *sub, &mut buf).unwrap();
            assert_eq!(&buf[..n], w.as_bytes());
        }
        let n = build_subscription(b"d", Subscription::BootstrapDown, &mut buf).unwrap();
        assert_eq!(&buf[..n], b"$oc/devices/d/sys/bootstrap/down");
        assert_eq!(
            build_subscription(b"d+", Subscription::Commands, &mut buf),
            Err(Error::DeviceId(crate::IdError::Forbidden {
                byte: b'+',
                at: 1
            }))
        );
    }

    #[test]
    fn builder_errors() {
        let mut small = [0u8; 10];
        assert_eq!(
            build_kind(b"d", Kind::MessagesUp, b"", &mut small),
            Err(Error::BufferTooSmall { needed: 29 })
        );
        let mut buf = [0u8; 300];
        assert_eq!(
            build_kind(b"d", Kind::Command, b"", &mut buf),
            Err(Error::RequestId(crate::IdError::Empty))
        );
        assert_eq!(
            build_kind(b"d", Kind::Command, b"x/../../other", &mut buf),
            Err(Error::RequestId(crate::IdError::Forbidden {
                byte: b'/',
                at: 1
            }))
        );
        assert_eq!(
            build_kind(b"other/sys", Kind::MessagesUp, b"", &mut buf),
            Err(Error::DeviceId(crate::IdError::Forbidden {
                byte: b'/',
                at: 5
            }))
        );
        assert_eq!(
            build_kind(b"d", Kind::User, b"a/#", &mut buf),
            Err(Error::TopicName(crate::IdError::Forbidden {
                byte: b'#',
                at: 2
            }))
        );
        assert_eq!(
            build(b"d", &Topic::NotOurs, &mut buf),
            Err(Error::NotBuildable)
        );
        let n = build(b"d", &Topic::Command { request_id: "9" }, &mut buf).unwrap();
        assert_eq!(&buf[..n], b"$oc/devices/d/sys/commands/request_id=9");
    }

    #[test]
    fn classification() {
        let c = |t: &'static str| classify_for(b"dev", t.as_bytes());
        assert_eq!(c("$oc/devices/dev/sys/messages/down"), Topic::MessagesDown);
        assert_eq!(
            c("$oc/devices/dev/sys/commands/request_id=abc"),
            Topic::Command { request_id: "abc" }
        );
        assert_eq!(
            c("$oc/devices/dev/sys/commands/response/request_id=abc"),
            Topic::CommandResponse { request_id: "abc" }
        );
        assert_eq!(c("$oc/devices/dev/user/a/b"), Topic::User { name: "a/b" });
        // Another device, prefixes of our id, or ours as a prefix of theirs.
        for t in [
            "$oc/devices/other/sys/messages/down",
            "$oc/devices/de/sys/messages/down",
            "$oc/devices/devx/sys/messages/down",
            "$oc/devices/dev",
            "$oc/devices/dev/",
            "$oc/devices//sys/messages/down",
            "$oc/devices/dev/sys/messages/down/",
            "$oc/devices/dev/sys/messages/downx",
            "$oc/devices/dev/sys/commands/request_id=",
            "$oc/devices/dev/sys/commands/request_id=a/b",
            "$oc/devices/dev/sys/commands/request_id=#",
            "$oc/devices/dev/sys/commands/",
            "$oc/devices/dev/sys/unknown",
            "$oc/devices/dev/user/",
            "$oc/devices/dev/user//x",
            "$OC/devices/dev/sys/messages/down",
            "oc/devices/dev/sys/messages/down",
            "",
        ] {
            assert_eq!(c(t), Topic::NotOurs, "{t}");
        }
        assert_eq!(
            classify_for(b"dev", b"$oc/devices/dev/sys/commands/request_id=\xff"),
            Topic::NotOurs
        );
        // An invalid device id never matches anything.
        assert_eq!(
            classify_for(b"", b"$oc/devices//sys/messages/down"),
            Topic::NotOurs
        );
        assert_eq!(
            parse(b"$oc/devices/other/sys/events/down"),
            Some(("other", Topic::EventsDown))
        );
        assert_eq!(
            Topic::PropertiesGet { request_id: "1" }.response_kind(),
            Some(Kind::PropertiesGetResponse)
        );
    }

    #[test]
    fn nth_path_counts_nul_ended_texts() {
        assert_eq!(nth_path(b"\0a\0bc\0", 0), b"");
        assert_eq!(nth_path(b"\0a\0bc\0", 1), b"a");
        assert_eq!(nth_path(b"\0a\0bc\0", 2), b"bc");
        assert_eq!(nth_path(b"\0a\0bc\0", 3), b"");
        assert_eq!(nth_path(b"\0a\0bc\0", usize::MAX), b"");
    }

    const PATH_SAMPLES: [&str; 7] = [
        "sys/messages/up",
        "sys/properties/set/request_id=",
        "sys/properties/set/response/request_id=",
        "sys/commands/",
        "user/",
        "user",
        "",
    ];

    fn id_strategy() -> impl Strategy<Value = String> {
        // Any UTF-8 without / + # NUL, 1..=128 bytes after truncation.
        proptest::string::string_regex("[^/+#\\x00]{1,40}")
            .unwrap()
            .prop_filter("<=128 bytes", |s| s.len() <= 128)
    }

    fn name_strategy() -> impl Strategy<Value = String> {
        proptest::collection::vec(
            proptest::string::string_regex("[^/+#\\x00]{1,10}").unwrap(),
            1..4,
        )
        .prop_map(|v: Vec<String>| v.join("/"))
        .prop_filter("<=128 bytes", |s| s.len() <= 128)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1000))]

        #[test]
        fn parse_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = parse(&bytes);
            let _ = classify_for(b"dev", &bytes);
            let _ = validate::device_id(&bytes);
            let _ = validate::request_id(&bytes);
            let _ = validate::topic_name(&bytes);
        }

        // parse_parts on bytes against the original definition, which
        // required the whole topic to be UTF-8 first and matched `&str`s
        #[test]
        fn parse_parts_matches_the_str_reference(
            id in proptest::collection::vec(prop_oneof![Just(b'd'), Just(0xC3), Just(0xA9), Just(0xFF), Just(b'/')], 1..4),
            path in proptest::sample::select(PATH_SAMPLES.to_vec()),
            tail in proptest::collection::vec(prop_oneof![Just(b'a'), Just(0xE2), Just(0x82), Just(0xAC), Just(0x80), Just(b'/'), Just(b'+')], 0..5),
        ) {
            let mut t = std::vec::Vec::from(PREFIX.as_bytes());
            t.extend_from_slice(&id);
            t.push(b'/');
            t.extend_from_slice(path.as_bytes());
            t.extend_from_slice(&tail);
            fn reference(topic: &[u8]) -> Option<(&[u8], Kind, &[u8])> {
                let s = core::str::from_utf8(topic).ok()?;
                let rest = s.strip_prefix(PREFIX)?;
                let slash = rest.bytes().position(|b| b == b'/')?;
                let (id, rest) = (rest.get(..slash)?, rest.get(slash + 1..)?);
                validate::device_id(id.as_bytes()).ok()?;
                Kind::ALL.iter().find_map(|&kind| {
                    let path = core::str::from_utf8(kind.path()).unwrap();
                    let param = rest.strip_prefix(path)?;
                    let ok = match kind.param() {
                        Param::None => param.is_empty(),
                        Param::RequestId => validate::request_id(param.as_bytes()).is_ok(),
                        Param::Name => validate::topic_name(param.as_bytes()).is_ok(),
                    };
                    ok.then_some((id.as_bytes(), kind, param.as_bytes()))
                })
            }
            prop_assert_eq!(parse_parts(&t), reference(&t));
        }

        // classify_with_query and classify_kind against the original
        // definition: parse the whole topic, or the part before the last
        // `?request_id=` when there is one.
        #[test]
        fn classify_kind_matches_the_reference(
            id in "(dev|de)",
            rest in "(sys/(commands|properties/(set|get)|shadow/get|messages|events)(/response)?(/(up|down|report))?(/request_id=)?|user/)[a-z0-9/+#=?]{0,8}(\\?request_id=[a-z0-9/?]{0,3})?",
        ) {
            let t = std::format!("$oc/devices/{id}/{rest}");
            let t = t.as_bytes();
            fn whole(topic: &[u8]) -> Topic<'_> {
                match parse(topic) {
                    Some((pid, topic)) if pid.as_bytes() == b"dev" => topic,
                    _ => Topic::NotOurs,
                }
            }
            let split = t.iter().rposition(|&b| b == b'?').and_then(|at| {
                let (base, rest) = t.split_at(at);
                Some((base, rest.strip_prefix(REQUEST_ID_QUERY.as_bytes())?))
            });
            let expected = match split {
                None => (whole(t), None),
                Some((base, rid)) => {
                    let topic = whole(base);
                    match (topic.kind(), validate::request_id(rid)) {
                        (Some(k), Ok(rid)) if matches!(k.param(), Param::None) => {
                            (topic, Some(core::str::from_utf8(rid).unwrap()))
                        }
                        _ => (Topic::NotOurs, None),
                    }
                }
            };
            prop_assert_eq!(classify_with_query(b"dev", t), expected);
            let parts = expected
                .0
                .kind()
                .map(|k| (k, expected.1.unwrap_or(expected.0.param()).as_bytes()));
            prop_assert_eq!(classify_kind(b"dev", t), parts);
        }

        #[test]
        fn parse_never_panics_on_near_topics(
            id in "[a-z/+#]{0,5}",
            rest in "(sys/(commands|properties/(set|get)|shadow/get|messages|events)(/response)?(/request_id=)?|user/)[a-z0-9/+#=]{0,8}",
        ) {
            let t = std::format!("$oc/devices/{id}/{rest}");
            if let Some((pid, topic)) = parse(t.as_bytes()) {
                // Whatever parses must rebuild to exactly the same bytes.
                let mut buf = [0u8; 256];
                let n = build(pid.as_bytes(), &topic, &mut buf).unwrap();
                prop_assert_eq!(&buf[..n], t.as_bytes());
            }
        }

        #[test]
        fn build_parse_round_trip(
            id in id_strategy(),
            rid in id_strategy(),
            name in name_strategy(),
            k in 0usize..17,
        ) {
            let kind = Kind::ALL[k];
            let param = if kind == Kind::User { name.as_str() } else { rid.as_str() };
            let mut buf = [0u8; 512];
            let n = build_kind(id.as_bytes(), kind, param.as_bytes(), &mut buf).unwrap();
            let topic = &buf[..n];
            let (pid, t) = parse(topic).unwrap();
            prop_assert_eq!(pid, id.as_str());
            prop_assert_eq!(t.kind(), Some(kind));
            if kind.param() != Param::None {
                prop_assert_eq!(t.param(), param);
            }
            prop_assert_eq!(classify_for(id.as_bytes(), topic), t);
            // A different device never sees it as its own.
            let other = std::format!("{id}x");
            prop_assert_eq!(classify_for(other.as_bytes(), topic), Topic::NotOurs);
            // Too-small buffers report the exact size needed.
            let mut small = [0u8; 512];
            prop_assert_eq!(
                build_kind(id.as_bytes(), kind, param.as_bytes(), &mut small[..n - 1]),
                Err(Error::BufferTooSmall { needed: n })
            );
        }
    }

    #[test]
    fn request_id_query_suffix() {
        fn c(t: &str) -> (Topic<'_>, Option<&str>) {
            classify_with_query(b"dev", t.as_bytes())
        }
        let (t, q) = c("$oc/devices/dev/sys/properties/report?request_id=42");
        assert_eq!((t.kind(), q), (Some(Kind::PropertiesReport), Some("42")));
        let (t, q) = c("$oc/devices/dev/sys/properties/report");
        assert_eq!((t.kind(), q), (Some(Kind::PropertiesReport), None));
        assert_eq!(
            c("$oc/devices/dev/sys/commands/request_id=1?request_id=2").0,
            Topic::NotOurs
        );
        assert_eq!(
            c("$oc/devices/dev/sys/messages/up?request_id=").0,
            Topic::NotOurs
        );
        assert_eq!(
            c("$oc/devices/dev/sys/messages/up?request_id=a/b").0,
            Topic::NotOurs
        );
        assert_eq!(
            c("$oc/devices/other/sys/messages/up?request_id=1").0,
            Topic::NotOurs
        );
    }
}
