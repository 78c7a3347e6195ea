//! The platform's state: devices, their connections, subscriptions, pending
//! downlinks, recorded uplinks, shadows and the waiters of synchronous calls.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use mqtt_core::codec::QoS;
use serde_json::{json, Map, Value};
use tokio::sync::{mpsc, oneshot, watch};

use crate::config::{Config, DeviceConfig};
use crate::trace::{Kind, Trace};

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
    /// A certificate (X.509) device: it logs in with a TLS client
    /// certificate, no password.
    pub certificate: bool,
    /// The SHA-256 fingerprint (lowercase hex) of its certificate; `None`
    /// until the first login records it (as Huawei does without one).
    pub fingerprint: Option<String>,
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
    /// Connected through the TLS listener.
    pub tls: bool,
}

/// A downlink kept by the platform: a message (messages API) waiting for
/// the device's next uplink, or a QoS 1 downlink sent and waiting for its
/// PUBACK (resent after a reconnect).
#[derive(Debug, Clone)]
pub struct PendingDl {
    pub id: u64,
    pub topic: Arc<str>,
    pub payload: Arc<[u8]>,
    /// Sent with QoS 1, no PUBACK yet.
    pub awaiting_ack: bool,
    /// The messages API's id, if it came from there.
    pub message_id: Option<String>,
}

/// Status of a message created through the messages API (CreateMessage).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MsgStatus {
    Pending,
    Delivered,
    Failed,
    Timeout,
}

impl MsgStatus {
    pub fn name(self) -> &'static str {
        match self {
            MsgStatus::Pending => "PENDING",
            MsgStatus::Delivered => "DELIVERED",
            MsgStatus::Failed => "FAILED",
            MsgStatus::Timeout => "TIMEOUT",
        }
    }
}

/// A message created through the messages API, as ShowDeviceMessage shows it.
#[derive(Debug, Clone)]
pub struct MessageRecord {
    pub message_id: String,
    pub name: Option<String>,
    pub message: Value,
    pub encoding: String,
    pub payload_format: String,
    pub topic: String,
    pub properties: Option<Value>,
    pub status: MsgStatus,
    pub created_time: String,
    pub created_ms: i64,
    pub finished_time: Option<String>,
}

impl MessageRecord {
    pub fn to_json(&self) -> Value {
        let mut v = json!({
            "message_id": self.message_id,
            "name": self.name,
            "message": self.message,
            "encoding": self.encoding,
            "payload_format": self.payload_format,
            "topic": self.topic,
            "status": self.status.name(),
            "created_time": self.created_time,
            "finished_time": self.finished_time,
        });
        if let Some(p) = &self.properties {
            v["properties"] = p.clone();
        }
        v
    }

    pub fn result_json(&self) -> Value {
        let mut r = json!({"status": self.status.name(), "created_time": self.created_time});
        if let Some(f) = &self.finished_time {
            r["finished_time"] = json!(f);
        }
        r
    }
}

/// Messages kept per device for ListDeviceMessages (Huawei keeps 20).
pub const MESSAGES_KEPT: usize = 20;

/// A message a device sent.
#[derive(Debug, Clone)]
pub struct Uplink {
    pub seq: u64,
    pub topic: String,
    pub payload: Vec<u8>,
    pub qos: u8,
    pub time: String,
    pub time_ms: i64,
    /// From a `?request_id=` topic suffix.
    pub request_id: Option<String>,
    /// Why a limit refused it (then it was not applied).
    pub rejected: Option<String>,
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
            "request_id": self.request_id,
            "rejected": self.rejected,
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
    pub last_login: Option<String>,
    pub last_logout: Option<String>,
    /// The bootstrap answer's address and initConfig (IoTDP), when set for
    /// this device; else the emulator's default.
    pub bootstrap: Option<(String, String)>,
    /// Messages API records, newest last (the last `MESSAGES_KEPT`).
    pub messages: VecDeque<MessageRecord>,
    /// Every message id used for this device (duplicates are refused).
    pub message_ids: HashSet<String>,
}

impl Device {
    pub fn from_config(d: &DeviceConfig) -> Device {
        Device {
            device_id: d.device_id.clone(),
            node_id: d.node_id.clone().unwrap_or_else(|| d.device_id.clone()),
            product_id: d.product_id.clone().unwrap_or_else(|| "emulator".into()),
            auth: DeviceAuth {
                secret: d.secret.clone(),
                certificate: d.certificate,
                fingerprint: d.fingerprint.clone(),
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
            last_login: None,
            last_logout: None,
            bootstrap: None,
            messages: VecDeque::new(),
            message_ids: HashSet::new(),
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
            "tls": self.conn.as_ref().map(|c| c.tls),
            "auth": if self.auth.certificate { "CERTIFICATES" } else if self.auth.secret.is_some() { "SECRET" } else { "FIXED_PAIR" },
            "fingerprint": self.auth.fingerprint,
            "logins": self.logins,
            "last_login": self.last_login,
            "last_logout": self.last_logout,
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
    /// Request ids of property sets the platform sent from the desired shadow.
    pub desired_requests: HashSet<WaiterKey>,
    /// Gateways, files, logs, remote configuration (`crate::services`).
    pub services: crate::services::Services,
}

pub struct Shared {
    pub config: Config,
    state: Mutex<State>,
    next_id: AtomicU64,
    pub uplinks_total: AtomicU64,
    pub connections: AtomicU64,
    /// Uplinks refused by a limit.
    pub rejected_total: AtomicU64,
    pub start_ms: i64,
    pub trace: Trace,
    /// Set to true when the emulator stops (listeners and streams end).
    pub stop: watch::Sender<bool>,
    /// OTA packages, tasks and tokens (crate::ota); never locked while
    /// holding the state lock, nor the other way round.
    ota: Mutex<crate::ota::Store>,
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
                desired_requests: HashSet::new(),
                services: Default::default(),
            }),
            next_id: AtomicU64::new(1),
            uplinks_total: AtomicU64::new(0),
            connections: AtomicU64::new(0),
            rejected_total: AtomicU64::new(0),
            start_ms: now_ms(),
            trace: Trace::default(),
            stop: watch::channel(false).0,
            ota: Mutex::new(crate::ota::Store::default()),
        })
    }

    /// Tells the console a device's summary changed.
    pub fn trace_device_changed(&self, device_id: &str) {
        let summary = self.lock().devices.get(device_id).map(Device::summary);
        self.trace.emit(
            Kind::Device,
            device_id,
            json!({"summary": summary, "deleted": summary.is_none()}),
        );
    }

    /// Marks messages pending longer than the TTL as TIMEOUT (and drops
    /// them from the delivery queue).
    pub fn expire_messages(&self) {
        let ttl = self.config.message_ttl.as_millis() as i64;
        let now = now_ms();
        let mut changed = Vec::new();
        {
            let mut st = self.lock();
            for dev in st.devices.values_mut() {
                let mut expired = Vec::new();
                for m in dev.messages.iter_mut() {
                    if m.status == MsgStatus::Pending && now - m.created_ms >= ttl {
                        m.status = MsgStatus::Timeout;
                        m.finished_time = Some(event_time_now());
                        expired.push(m.message_id.clone());
                    }
                }
                if !expired.is_empty() {
                    dev.pending.retain(|p| {
                        p.awaiting_ack
                            || p.message_id.as_ref().is_none_or(|id| !expired.contains(id))
                    });
                    changed.push((dev.device_id.clone(), expired));
                }
            }
        }
        for (dev, ids) in changed {
            for id in ids {
                crate::log!("{dev}: message {id} TIMEOUT (not delivered within the TTL)");
                self.trace.emit(
                    Kind::Device,
                    &dev,
                    json!({"message_id": id, "message_status": "TIMEOUT"}),
                );
            }
        }
    }

    /// The state; a poisoned lock (a panic elsewhere) is recovered, never
    /// propagated.
    pub fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The OTA store (a poisoned lock is recovered, as for [`Shared::lock`]).
    pub fn ota(&self) -> MutexGuard<'_, crate::ota::Store> {
        self.ota.lock().unwrap_or_else(|p| p.into_inner())
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
    /// Device summaries, sorted by id.
    pub fn device_summaries(&self) -> Vec<Value> {
        let mut devs: Vec<&Device> = self.devices.values().collect();
        devs.sort_by(|a, b| a.device_id.cmp(&b.device_id));
        devs.iter().map(|d| d.summary()).collect()
    }

    /// Hands a downlink to `device_id`: sent now if the device is online and
    /// subscribed to a matching filter, otherwise kept (`keep`: a message of
    /// the messages API, sent at the device's next uplink) or dropped.
    pub fn deliver(
        &mut self,
        id: u64,
        device_id: &str,
        topic: &str,
        payload: Vec<u8>,
        keep: bool,
    ) -> Delivery {
        self.deliver_message(id, device_id, topic, payload, keep, None)
    }

    /// [`State::deliver`] for a messages-API message (its record is updated).
    pub fn deliver_message(
        &mut self,
        id: u64,
        device_id: &str,
        topic: &str,
        payload: Vec<u8>,
        keep: bool,
        message_id: Option<String>,
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
                        awaiting_ack: true,
                        message_id: message_id.clone(),
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
            dev.pending.push(PendingDl {
                id,
                topic,
                payload,
                awaiting_ack: false,
                message_id,
            });
            Delivery::Pending
        } else {
            Delivery::NotDelivered
        }
    }

    /// A messages-API message went out to the device: DELIVERED.
    pub fn mark_delivered(&mut self, device_id: &str, message_id: &str) -> bool {
        let Some(dev) = self.devices.get_mut(device_id) else {
            return false;
        };
        match dev
            .messages
            .iter_mut()
            .find(|m| m.message_id == message_id && m.status == MsgStatus::Pending)
        {
            Some(m) => {
                m.status = MsgStatus::Delivered;
                m.finished_time = Some(event_time_now());
                true
            }
            None => false,
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
