//! The platform's state: devices, their connections, subscriptions, pending
//! downlinks, recorded uplinks, shadows and the waiters of synchronous calls.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use mqtt_core::codec::QoS;
use serde_json::{json, Map, Value};
use tokio::sync::{mpsc, oneshot};

use crate::config::{Config, DeviceConfig};

pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

pub fn now_secs() -> i64 {
    now_ms() / 1000
}

/// `yyyyMMddTHHmmssZ` for now.
pub fn event_time_now() -> String {
    iotda::time::DateTime::from_unix(now_secs())
        .map(|d| String::from_utf8_lossy(&d.event_time()).into_owned())
        .unwrap_or_default()
}

/// How a device may log in.
#[derive(Debug, Clone)]
pub struct DeviceAuth {
    pub secret: Option<String>,
    /// Fixed (ClientId, password) pair.
    pub fixed: Option<(String, String)>,
}

/// What the platform tells a connection task.
#[derive(Debug)]
pub enum ConnMsg {
    /// Publish a downlink; `dl_id` is set for QoS 1 (tracked until PUBACK).
    Publish {
        dl_id: Option<u64>,
        topic: Arc<str>,
        payload: Arc<[u8]>,
        qos: QoS,
    },
    /// Another login of the same device: close.
    Kick,
    /// Emulator shutting down.
    Shutdown,
}

#[derive(Debug, Clone)]
pub struct ConnHandle {
    pub conn_id: u64,
    pub tx: mpsc::UnboundedSender<ConnMsg>,
    pub client_id: String,
    pub since: String,
    pub peer: String,
}

/// A downlink waiting for a subscription (messages API) or for its PUBACK.
#[derive(Debug, Clone)]
pub struct PendingDl {
    pub id: u64,
    pub topic: Arc<str>,
    pub payload: Arc<[u8]>,
}

/// A message a device sent.
#[derive(Debug, Clone)]
pub struct Uplink {
    pub seq: u64,
    pub topic: String,
    pub payload: Vec<u8>,
    pub qos: u8,
    pub time: String,
    pub time_ms: i64,
}

impl Uplink {
    pub fn to_json(&self) -> Value {
        let (payload, encoding) = match std::str::from_utf8(&self.payload) {
            Ok(s) => (s.to_string(), "utf8"),
            Err(_) => (crate::b64_encode(&self.payload), "base64"),
        };
        json!({
            "seq": self.seq,
            "topic": self.topic,
            "qos": self.qos,
            "time": self.time,
            "time_ms": self.time_ms,
            "payload": payload,
            "encoding": encoding,
        })
    }
}

/// One service of a device shadow.
#[derive(Debug, Clone, Default)]
pub struct ShadowService {
    pub desired: Map<String, Value>,
    pub desired_time: Option<String>,
    pub reported: Map<String, Value>,
    pub reported_time: Option<String>,
    pub version: u64,
}

impl ShadowService {
    pub fn to_json(&self, service_id: &str) -> Value {
        json!({
            "service_id": service_id,
            "desired": {"properties": self.desired, "event_time": self.desired_time},
            "reported": {"properties": self.reported, "event_time": self.reported_time},
            "version": self.version,
        })
    }
}

#[derive(Debug)]
pub struct Device {
    pub device_id: String,
    pub node_id: String,
    pub product_id: String,
    pub auth: DeviceAuth,
    pub created: String,
    pub conn: Option<ConnHandle>,
    pub subscriptions: Vec<(String, QoS)>,
    pub pending: Vec<PendingDl>,
    pub uplinks: VecDeque<Uplink>,
    pub uplink_count: u64,
    pub shadow: BTreeMap<String, ShadowService>,
    pub sw_version: Option<String>,
    pub fw_version: Option<String>,
    pub logins: u64,
}

impl Device {
    pub fn from_config(d: &DeviceConfig) -> Device {
        Device {
            device_id: d.device_id.clone(),
            node_id: d.node_id.clone().unwrap_or_else(|| d.device_id.clone()),
            product_id: d.product_id.clone().unwrap_or_else(|| "emulator".into()),
            auth: DeviceAuth {
                secret: d.secret.clone(),
                fixed: d.client_id.clone().zip(d.password.clone()),
            },
            created: event_time_now(),
            conn: None,
            subscriptions: Vec::new(),
            pending: Vec::new(),
            uplinks: VecDeque::new(),
            uplink_count: 0,
            shadow: BTreeMap::new(),
            sw_version: None,
            fw_version: None,
            logins: 0,
        }
    }

    /// The granted QoS of the best subscription matching `topic` (capped at 1).
    pub fn match_qos(&self, topic: &str) -> Option<QoS> {
        self.subscriptions
            .iter()
            .filter(|(f, _)| topic_matches(f, topic))
            .map(|(_, q)| *q)
            .max()
            .map(|q| q.min(QoS::AtLeastOnce))
    }

    /// Public description (no secrets).
    pub fn summary(&self) -> Value {
        json!({
            "device_id": self.device_id,
            "node_id": self.node_id,
            "product_id": self.product_id,
            "online": self.conn.is_some(),
            "status": if self.conn.is_some() { "ONLINE" } else { "OFFLINE" },
            "client_id": self.conn.as_ref().map(|c| c.client_id.clone()),
            "online_since": self.conn.as_ref().map(|c| c.since.clone()),
            "peer": self.conn.as_ref().map(|c| c.peer.clone()),
            "auth": if self.auth.secret.is_some() { "SECRET" } else { "FIXED_PAIR" },
            "logins": self.logins,
            "subscriptions": self.subscriptions.iter().map(|(f, q)| json!({"topic": f, "qos": q.as_u8()})).collect::<Vec<_>>(),
            "pending_downlinks": self.pending.len(),
            "uplinks": self.uplink_count,
            "sw_version": self.sw_version,
            "fw_version": self.fw_version,
            "create_time": self.created,
        })
    }
}

/// MQTT filter matching (`+` one level, `#` the rest).
pub fn topic_matches(filter: &str, topic: &str) -> bool {
    let mut f = filter.split('/');
    let mut t = topic.split('/');
    loop {
        match (f.next(), t.next()) {
            (Some("#"), _) => return true,
            (Some("+"), Some(_)) => {}
            (Some(a), Some(b)) if a == b => {}
            (None, None) => return true,
            _ => return false,
        }
    }
}

/// Outcome of handing a downlink to the platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// Sent to the online device (QoS 1: kept until its PUBACK).
    Delivered,
    /// Kept until the device is online and subscribed.
    Pending,
    /// Device offline or not subscribed, and not kept.
    NotDelivered,
}

pub type WaiterKey = (String, String);

pub struct State {
    pub devices: HashMap<String, Device>,
    pub waiters: HashMap<WaiterKey, oneshot::Sender<Vec<u8>>>,
}

pub struct Shared {
    pub config: Config,
    state: Mutex<State>,
    next_id: AtomicU64,
    pub uplinks_total: AtomicU64,
    pub connections: AtomicU64,
    pub start_ms: i64,
}

impl Shared {
    pub fn new(config: Config) -> Arc<Shared> {
        let devices = config
            .devices
            .iter()
            .map(|d| (d.device_id.clone(), Device::from_config(d)))
            .collect();
        Arc::new(Shared {
            config,
            state: Mutex::new(State {
                devices,
                waiters: HashMap::new(),
            }),
            next_id: AtomicU64::new(1),
            uplinks_total: AtomicU64::new(0),
            connections: AtomicU64::new(0),
            start_ms: now_ms(),
        })
    }

    /// The state; a poisoned lock (a panic elsewhere) is recovered, never
    /// propagated.
    pub fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn next_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    /// A UUID-shaped identifier (message ids, command ids, request ids).
    pub fn new_uuid(&self) -> String {
        let n = self.next_id();
        let t = (self.start_ms as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        format!(
            "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
            (t >> 32) as u32,
            (t >> 16) as u16,
            (t & 0xfff) as u16,
            (n >> 48) as u16 & 0xfff,
            n & 0xffff_ffff_ffff
        )
    }
}

impl State {
    /// Hands a downlink to `device_id`: sent now if the device is online and
    /// subscribed to a matching filter, otherwise kept (`keep`) or dropped.
    pub fn deliver(
        &mut self,
        id: u64,
        device_id: &str,
        topic: &str,
        payload: Vec<u8>,
        keep: bool,
    ) -> Delivery {
        let Some(dev) = self.devices.get_mut(device_id) else {
            return Delivery::NotDelivered;
        };
        let topic: Arc<str> = Arc::from(topic);
        let payload: Arc<[u8]> = Arc::from(payload);
        if let Some(conn) = &dev.conn {
            if let Some(qos) = dev.match_qos(&topic) {
                let dl_id = (qos == QoS::AtLeastOnce).then_some(id);
                if dl_id.is_some() {
                    dev.pending.push(PendingDl {
                        id,
                        topic: topic.clone(),
                        payload: payload.clone(),
                    });
                }
                let _ = conn.tx.send(ConnMsg::Publish {
                    dl_id,
                    topic,
                    payload,
                    qos,
                });
                return Delivery::Delivered;
            }
        }
        if keep {
            dev.pending.push(PendingDl { id, topic, payload });
            Delivery::Pending
        } else {
            Delivery::NotDelivered
        }
    }

    /// Shadow as JSON, all services or one.
    pub fn shadow_json(&self, device_id: &str, service_id: Option<&str>) -> Option<Vec<Value>> {
        let dev = self.devices.get(device_id)?;
        Some(
            dev.shadow
                .iter()
                .filter(|(s, _)| service_id.is_none_or(|want| want == s.as_str()))
                .map(|(s, svc)| svc.to_json(s))
                .collect(),
        )
    }
}
