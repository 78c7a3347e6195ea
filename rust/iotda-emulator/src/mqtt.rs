//! Device side: one task per TCP connection, speaking MQTT through
//! `mqtt_core::codec` (server role: decodes CONNECT/PUBLISH/SUBSCRIBE/...,
//! encodes CONNACK/PUBLISH/SUBACK/...).
//!
//! Plain TCP and TLS connections run the same code. Refusals:
//! - PUBLISH with QoS 2, the retain flag, or on another device's `$oc`
//!   topic: the connection is closed (IoTDA has no QoS 2 or retain).
//! - PUBLISH over 1 MB, over the uplink rate, or on a custom topic over
//!   128 bytes: rejected (not recorded, no PUBACK), the connection stays
//!   (rules in `uplink`).
//! - SUBSCRIBE entry with QoS 2, a filter outside the device's topics, or
//!   beyond 100 subscriptions: SUBACK 0x80 for that entry.
//! - Malformed bytes, a second CONNECT, anything before CONNECT, a client
//!   sending server packets: the connection is closed and logged.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use bytes::{Buf, BytesMut};
use mqtt_core::codec::{
    decode, decode_fixed_header, ConnAck, Connect, ConnectReturnCode, DecodeError, FieldError,
    Packet, Publish, QoS, QosPid, Status, SubAck, SubackReturnCode,
};
use serde_json::{json, Value};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;
use tokio_rustls::TlsAcceptor;

use crate::auth;
use crate::config::MAX_PAYLOAD;
use crate::log;
use crate::state::{event_time_now, now_ms, ConnHandle, ConnMsg, Shared, Uplink};
use crate::trace::{payload_text, Kind};
use crate::uplink::{check_filter, check_publish, RateWindow, Verdict};

/// Largest remaining length read into memory: a 1 MB payload plus the
/// largest topic and packet id. Longer PUBLISH packets are skipped.
const MAX_REMAINING: usize = MAX_PAYLOAD + 2 + 65535 + 2;

/// How long a TLS handshake may take.
const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

type Rd = Box<dyn AsyncRead + Send + Unpin>;
type Wr = Box<dyn AsyncWrite + Send + Unpin>;

pub async fn serve(
    shared: Arc<Shared>,
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            r = listener.accept() => match r {
                Ok((stream, peer)) => {
                    let shared = shared.clone();
                    let stop = stop.clone();
                    let tls = tls.clone();
                    tokio::spawn(async move {
                        let _ = stream.set_nodelay(true);
                        match tls {
                            None => {
                                let (rd, wr) = tokio::io::split(stream);
                                run_conn(shared, Box::new(rd), Box::new(wr), peer, false, stop).await;
                            }
                            Some(acceptor) => {
                                let hs = tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await;
                                match hs {
                                    Ok(Ok(s)) => {
                                        let (rd, wr) = tokio::io::split(s);
                                        run_conn(shared, Box::new(rd), Box::new(wr), peer, true, stop).await;
                                    }
                                    Ok(Err(e)) => log!("{peer}: TLS handshake failed: {e}"),
                                    Err(_) => log!("{peer}: TLS handshake timed out"),
                                }
                            }
                        }
                    });
                }
                Err(e) => {
                    log!("mqtt accept error: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            _ = stop.changed() => break,
        }
    }
}

/// Encodes a packet the emulator builds itself (fields already validated).
fn encode(p: &Packet<'_>) -> Option<Vec<u8>> {
    let n = p.encoded_len().ok()?;
    let mut out = vec![0u8; n];
    p.encode(&mut out).ok()?;
    Some(out)
}

enum Next<'a> {
    Packet(Packet<'a>, usize),
    NeedMore,
    /// A packet too large to read into memory: (total bytes, is PUBLISH).
    TooLarge(usize, bool),
    Bad(DecodeError),
}

fn next_packet(buf: &[u8]) -> Next<'_> {
    match decode_fixed_header(buf) {
        Err(e) => return Next::Bad(e),
        Ok(Status::Partial(_)) => return Next::NeedMore,
        Ok(Status::Complete(h)) if h.remaining_length > MAX_REMAINING => {
            return Next::TooLarge(
                h.header_len + h.remaining_length,
                h.packet_type == mqtt_core::codec::PacketType::Publish,
            )
        }
        Ok(Status::Complete(_)) => {}
    }
    match decode(buf) {
        Ok(Status::Complete((p, n))) => Next::Packet(p, n),
        Ok(Status::Partial(_)) => Next::NeedMore,
        Err(e) => Next::Bad(e),
    }
}

struct Conn {
    shared: Arc<Shared>,
    wr: Wr,
    conn_id: u64,
    device_id: String,
    peer: SocketAddr,
    next_pid: u16,
    /// packet id -> (downlink id, topic, payload, last sent, redeliveries)
    inflight: HashMap<u16, Inflight>,
    rate: RateWindow,
}

struct Inflight {
    dl_id: u64,
    topic: Arc<str>,
    payload: Arc<[u8]>,
    sent: Instant,
    redeliveries: u32,
}

/// A downlink to send: (downlink id, topic, payload, QoS).
type Outgoing = (u64, Arc<str>, Arc<[u8]>, QoS);

/// Why a connection ended.
type Close = String;

async fn run_conn(
    shared: Arc<Shared>,
    mut rd: Rd,
    mut wr: Wr,
    peer: SocketAddr,
    tls: bool,
    mut stop: watch::Receiver<bool>,
) {
    let mut buf = BytesMut::with_capacity(4096);
    // 1. CONNECT, within the connect timeout.
    let deadline = Instant::now() + shared.config.connect_timeout;
    let login = loop {
        match next_packet(&buf) {
            Next::Packet(Packet::Connect(c), n) => {
                let r = login(&shared, &c, peer, tls);
                break Some((r, n));
            }
            Next::Packet(p, _) => {
                log!("{peer}: {:?} before CONNECT, closing", p.packet_type());
                break None;
            }
            Next::Bad(DecodeError::Field(FieldError::InvalidProtocol)) => {
                log!("{peer}: CONNECT with an unsupported protocol -> CONNACK 0x01");
                let ack = Packet::ConnAck(ConnAck {
                    session_present: false,
                    code: ConnectReturnCode::UnacceptableProtocolVersion,
                });
                if let Some(b) = encode(&ack) {
                    let _ = wr.write_all(&b).await;
                }
                break None;
            }
            Next::Bad(e) => {
                log!("{peer}: malformed packet before login ({e:?}), closing");
                break None;
            }
            Next::TooLarge(n, _) => {
                log!("{peer}: {n}-byte packet before login, closing");
                break None;
            }
            Next::NeedMore => {}
        }
        tokio::select! {
            r = rd.read_buf(&mut buf) => match r {
                Ok(0) | Err(_) => break None,
                Ok(_) => {}
            },
            _ = tokio::time::sleep_until(deadline) => {
                log!("{peer}: no CONNECT within {:?}, closing", shared.config.connect_timeout);
                break None;
            }
            _ = stop.changed() => break None,
        }
    };
    let Some((result, used)) = login else {
        return;
    };
    let (code, accepted) = match result {
        Ok(a) => (ConnectReturnCode::Accepted, Some(a)),
        Err(code) => (code, None),
    };
    let ack = Packet::ConnAck(ConnAck {
        session_present: accepted.as_ref().is_some_and(|a| a.session_present),
        code,
    });
    let Some(ack) = encode(&ack) else { return };
    if wr.write_all(&ack).await.is_err() {
        if let Some(a) = accepted {
            disconnect(&shared, &a.device_id, a.conn_id, "write failed");
        }
        return;
    }
    let Some(acc) = accepted else {
        return;
    };
    buf.advance(used);
    let mut conn = Conn {
        shared: shared.clone(),
        wr,
        conn_id: acc.conn_id,
        device_id: acc.device_id.clone(),
        peer,
        next_pid: 0,
        inflight: HashMap::new(),
        rate: RateWindow::default(),
    };
    let why = conn
        .session(&mut rd, &mut buf, acc.rx, acc.keepalive, &mut stop)
        .await;
    disconnect(&shared, &conn.device_id, conn.conn_id, &why);
}

struct Accepted {
    device_id: String,
    conn_id: u64,
    keepalive: u16,
    session_present: bool,
    rx: mpsc::UnboundedReceiver<ConnMsg>,
}

/// Applies the login rules; on success registers the connection (kicking
/// an earlier one of the same device).
fn login(
    shared: &Arc<Shared>,
    c: &Connect<'_>,
    peer: SocketAddr,
    tls: bool,
) -> Result<Accepted, ConnectReturnCode> {
    let refuse = |code: ConnectReturnCode, why: &str| {
        log!(
            "{peer}: CONNECT client_id={:?} refused: CONNACK 0x{:02x} ({why})",
            c.client_id,
            code.as_u8()
        );
        code
    };
    let cid = auth::precheck(c).map_err(|(code, why)| refuse(code, &why))?;
    let mut st = shared.lock();
    let Some(dev) = st.devices.get_mut(cid.device_id) else {
        return Err(refuse(ConnectReturnCode::NotAuthorized, "unknown device"));
    };
    auth::check_credentials(
        c,
        &cid,
        &dev.auth,
        crate::state::now_secs(),
        shared.config.sign1_tolerance_hours,
    )
    .map_err(|(code, why)| refuse(code, &why))?;
    let conn_id = shared.next_id();
    let (tx, rx) = mpsc::unbounded_channel();
    if let Some(old) = dev.conn.take() {
        log!(
            "{}: second login from {peer}: dropping the connection from {}",
            dev.device_id,
            old.peer
        );
        let _ = old.tx.send(ConnMsg::Kick);
    }
    let session_present = !c.clean_session && !dev.subscriptions.is_empty();
    if c.clean_session {
        dev.subscriptions.clear();
    }
    let since = event_time_now();
    dev.conn = Some(ConnHandle {
        conn_id,
        tx,
        client_id: c.client_id.to_string(),
        since: since.clone(),
        peer: peer.to_string(),
        tls,
    });
    dev.logins += 1;
    dev.last_login = Some(since);
    shared.connections.fetch_add(1, Ordering::Relaxed);
    log!(
        "{}: online (client_id={}, MQTT {}{}, keepalive {} s, sign type {}, from {peer})",
        dev.device_id,
        c.client_id,
        if c.protocol == mqtt_core::codec::Protocol::V31 {
            "3.1"
        } else {
            "3.1.1"
        },
        if tls { " over TLS" } else { "" },
        c.keep_alive,
        cid.sign_type
    );
    let summary = dev.summary();
    shared.trace.emit(
        Kind::Online,
        cid.device_id,
        json!({"client_id": c.client_id, "peer": peer.to_string(), "tls": tls, "summary": summary}),
    );
    Ok(Accepted {
        device_id: dev.device_id.clone(),
        conn_id,
        keepalive: c.keep_alive,
        session_present,
        rx,
    })
}

fn disconnect(shared: &Shared, device_id: &str, conn_id: u64, why: &str) {
    let mut st = shared.lock();
    if let Some(dev) = st.devices.get_mut(device_id) {
        if dev.conn.as_ref().is_some_and(|c| c.conn_id == conn_id) {
            dev.conn = None;
            dev.last_logout = Some(event_time_now());
            log!("{device_id}: offline ({why})");
            let summary = dev.summary();
            drop(st);
            shared.trace.emit(
                Kind::Offline,
                device_id,
                json!({"reason": why, "summary": summary}),
            );
        } else {
            log!("{device_id}: earlier connection closed ({why})");
        }
    }
}

impl Conn {
    async fn session(
        &mut self,
        rd: &mut Rd,
        buf: &mut BytesMut,
        mut rx: mpsc::UnboundedReceiver<ConnMsg>,
        keepalive: u16,
        stop: &mut watch::Receiver<bool>,
    ) -> Close {
        let limit = Duration::from_secs_f64(
            f64::from(keepalive) * 1.5 * self.shared.config.keepalive_scale,
        );
        let mut last_rx = Instant::now();
        let interval = self.shared.config.redelivery_interval;
        let mut tick = tokio::time::interval((interval / 4).max(Duration::from_millis(10)));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        // A session resumed with subscriptions gets its unacknowledged
        // QoS 1 downlinks again, and the desired shadow.
        if let Err(e) = self.push_pending(false).await {
            return e;
        }
        self.push_desired();
        // Bytes of an oversized PUBLISH still to skip.
        let mut skip = 0usize;
        loop {
            // Everything complete in the buffer first.
            loop {
                if skip > 0 {
                    let n = skip.min(buf.len());
                    buf.advance(n);
                    skip -= n;
                    if skip > 0 {
                        break;
                    }
                }
                let (r, used) = match next_packet(buf) {
                    Next::Packet(p, n) => (self.on_packet(p).await, n),
                    Next::NeedMore => break,
                    Next::TooLarge(n, true) => {
                        self.reject(
                            "(topic not read)",
                            &format!(
                                "PUBLISH of {n} bytes: over the {} byte limit",
                                self.shared.config.limits.max_payload
                            ),
                        );
                        skip = n;
                        last_rx = Instant::now();
                        continue;
                    }
                    Next::TooLarge(n, false) => {
                        return format!("{n}-byte packet that is not a PUBLISH, connection closed")
                    }
                    Next::Bad(e) => return format!("malformed packet ({e:?}), connection closed"),
                };
                buf.advance(used);
                last_rx = Instant::now();
                if let Err(e) = r {
                    return e;
                }
            }
            tokio::select! {
                r = rd.read_buf(buf) => match r {
                    Ok(0) => return "connection closed by the device".into(),
                    Ok(_) => last_rx = Instant::now(),
                    Err(e) => return format!("read error: {e}"),
                },
                m = rx.recv() => match m {
                    Some(ConnMsg::Publish { dl_id, topic, payload, qos }) => {
                        if let Err(e) = self.send_publish(dl_id, topic, payload, qos).await {
                            return e;
                        }
                    }
                    Some(ConnMsg::Kick) => return "kicked by a second login of the same device".into(),
                    Some(ConnMsg::Shutdown) | None => return "emulator shutting down".into(),
                },
                _ = tokio::time::sleep_until(last_rx + limit) => {
                    return format!("silent for more than 1.5 x keepalive ({:.1} s)", limit.as_secs_f64());
                }
                _ = tick.tick() => {
                    if let Err(e) = self.redeliver().await {
                        return e;
                    }
                }
                _ = stop.changed() => return "emulator shutting down".into(),
            }
        }
    }

    async fn write(&mut self, p: &Packet<'_>) -> Result<(), Close> {
        let Some(bytes) = encode(p) else {
            return Err(format!("could not encode {:?}", p.packet_type()));
        };
        self.wr
            .write_all(&bytes)
            .await
            .map_err(|e| format!("write error: {e}"))
    }

    fn alloc_pid(&mut self) -> u16 {
        loop {
            self.next_pid = self.next_pid.wrapping_add(1);
            if self.next_pid != 0 && !self.inflight.contains_key(&self.next_pid) {
                return self.next_pid;
            }
        }
    }

    async fn send_publish(
        &mut self,
        dl_id: Option<u64>,
        topic: Arc<str>,
        payload: Arc<[u8]>,
        qos: QoS,
    ) -> Result<(), Close> {
        let qos_pid = match (qos, dl_id) {
            (QoS::AtLeastOnce, Some(id)) => {
                if self.inflight.values().any(|f| f.dl_id == id) {
                    return Ok(()); // already on its way
                }
                let pid = self.alloc_pid();
                self.inflight.insert(
                    pid,
                    Inflight {
                        dl_id: id,
                        topic: topic.clone(),
                        payload: payload.clone(),
                        sent: Instant::now(),
                        redeliveries: 0,
                    },
                );
                QosPid::AtLeastOnce(pid)
            }
            _ => QosPid::AtMostOnce,
        };
        log!(
            "{}: downlink {} qos={} {} bytes",
            self.device_id,
            topic,
            qos_pid.qos().as_u8(),
            payload.len()
        );
        let (text, encoding) = payload_text(&payload);
        self.shared.trace.emit(
            Kind::Downlink,
            &self.device_id,
            json!({"topic": &*topic, "qos": qos_pid.qos().as_u8(), "payload": text,
                   "encoding": encoding, "dup": false}),
        );
        self.write(&Packet::Publish(Publish {
            dup: false,
            qos_pid,
            retain: false,
            topic: &topic,
            payload: &payload,
        }))
        .await
    }

    /// Resends QoS 1 downlinks whose PUBACK is overdue (up to the count).
    async fn redeliver(&mut self) -> Result<(), Close> {
        let interval = self.shared.config.redelivery_interval;
        let max = self.shared.config.redelivery_count;
        let now = Instant::now();
        let due: Vec<u16> = self
            .inflight
            .iter()
            .filter(|(_, f)| f.redeliveries < max && now >= f.sent + interval)
            .map(|(pid, _)| *pid)
            .collect();
        for pid in due {
            let Some(f) = self.inflight.get_mut(&pid) else {
                continue;
            };
            f.redeliveries += 1;
            f.sent = now;
            let (topic, payload, n) = (f.topic.clone(), f.payload.clone(), f.redeliveries);
            log!(
                "{}: no PUBACK for packet {pid}: redelivery {n}/{max} of {topic}",
                self.device_id
            );
            self.write(&Packet::Publish(Publish {
                dup: true,
                qos_pid: QosPid::AtLeastOnce(pid),
                retain: false,
                topic: &topic,
                payload: &payload,
            }))
            .await?;
        }
        Ok(())
    }

    /// Sends kept downlinks matching the current subscriptions: the QoS 1
    /// ones still waiting for a PUBACK, and with `messages` also the
    /// messages-API messages kept for the device's next uplink (then
    /// DELIVERED).
    async fn push_pending(&mut self, messages: bool) -> Result<(), Close> {
        let (todo, delivered) = {
            let mut st = self.shared.lock();
            let Some(dev) = st.devices.get_mut(&self.device_id) else {
                return Ok(());
            };
            let mut out: Vec<Outgoing> = Vec::new();
            let mut delivered = Vec::new();
            let inflight: Vec<u64> = self.inflight.values().map(|f| f.dl_id).collect();
            let mut keep = Vec::new();
            for mut p in std::mem::take(&mut dev.pending) {
                let due = p.awaiting_ack || messages;
                match dev.match_qos(&p.topic) {
                    Some(q) if due && !inflight.contains(&p.id) => {
                        out.push((p.id, p.topic.clone(), p.payload.clone(), q));
                        if !p.awaiting_ack {
                            if let Some(m) = &p.message_id {
                                delivered.push(m.clone());
                            }
                        }
                        if q == QoS::AtLeastOnce {
                            p.awaiting_ack = true;
                            keep.push(p);
                        }
                    }
                    _ => keep.push(p),
                }
            }
            dev.pending = keep;
            for m in &delivered {
                st.mark_delivered(&self.device_id, m);
            }
            (out, delivered)
        };
        for m in delivered {
            log!("{}: pending message {m} DELIVERED", self.device_id);
            self.shared.trace.emit(
                Kind::Device,
                &self.device_id,
                json!({"message_id": m, "message_status": "DELIVERED"}),
            );
        }
        for (id, topic, payload, qos) in todo {
            self.send_publish(Some(id), topic, payload, qos).await?;
        }
        Ok(())
    }

    /// The desired shadow, if it differs from the reported one (iot_01_0049).
    fn push_desired(&self) {
        let mut st = self.shared.lock();
        crate::shadow::push_desired(&mut st, &self.shared, &self.device_id);
    }

    /// An uplink refused by a limit: logged and shown on the console.
    fn reject(&self, topic: &str, why: &str) {
        log!("{}: uplink rejected: {why}", self.device_id);
        self.shared.rejected_total.fetch_add(1, Ordering::Relaxed);
        self.shared.trace.emit(
            Kind::Rejected,
            &self.device_id,
            json!({"topic": topic, "reason": why}),
        );
    }

    async fn on_packet(&mut self, p: Packet<'_>) -> Result<(), Close> {
        match p {
            Packet::Publish(publish) => self.on_publish(publish).await,
            Packet::PubAck(pid) => {
                if let Some(f) = self.inflight.remove(&pid) {
                    let mut st = self.shared.lock();
                    if let Some(dev) = st.devices.get_mut(&self.device_id) {
                        dev.pending.retain(|p| p.id != f.dl_id);
                    }
                }
                Ok(())
            }
            Packet::Subscribe(s) => {
                let limits = self.shared.config.limits;
                let mut codes = Vec::new();
                let mut desired_topic = false;
                {
                    let mut st = self.shared.lock();
                    let dev = st
                        .devices
                        .get_mut(&self.device_id)
                        .ok_or("device deleted")?;
                    let set_topic = format!(
                        "$oc/devices/{}/sys/properties/set/request_id=x",
                        self.device_id
                    );
                    for t in s.topics.iter() {
                        let known = dev.subscriptions.iter().any(|(f, _)| f == t.filter);
                        let refused = if t.qos == QoS::ExactlyOnce {
                            Some("IoTDA has no QoS 2".to_string())
                        } else if let Err(why) = check_filter(&self.device_id, t.filter, &limits) {
                            Some(why)
                        } else if !known && dev.subscriptions.len() >= limits.max_subscriptions {
                            Some(format!(
                                "over {} subscriptions on one connection",
                                limits.max_subscriptions
                            ))
                        } else {
                            None
                        };
                        let code = match refused {
                            Some(why) => {
                                log!(
                                    "{}: SUBSCRIBE {} refused (0x80): {why}",
                                    self.device_id,
                                    t.filter
                                );
                                SubackReturnCode::Failure
                            }
                            None => {
                                dev.subscriptions.retain(|(f, _)| f != t.filter);
                                dev.subscriptions.push((t.filter.to_string(), t.qos));
                                desired_topic |= crate::state::topic_matches(t.filter, &set_topic);
                                log!(
                                    "{}: subscribed {} qos={}",
                                    self.device_id,
                                    t.filter,
                                    t.qos.as_u8()
                                );
                                SubackReturnCode::Success(t.qos)
                            }
                        };
                        codes.push(code.as_u8());
                    }
                }
                self.write(&Packet::SubAck(SubAck {
                    packet_id: s.packet_id,
                    return_codes: &codes,
                }))
                .await?;
                self.shared.trace_device_changed(&self.device_id);
                if desired_topic {
                    self.push_desired();
                }
                self.push_pending(false).await
            }
            Packet::Unsubscribe(u) => {
                {
                    let mut st = self.shared.lock();
                    if let Some(dev) = st.devices.get_mut(&self.device_id) {
                        for f in u.topics.iter() {
                            dev.subscriptions.retain(|(s, _)| s != f);
                        }
                    }
                }
                self.write(&Packet::UnsubAck(u.packet_id)).await
            }
            Packet::PingReq => self.write(&Packet::PingResp).await,
            Packet::Disconnect => Err("DISCONNECT from the device".into()),
            Packet::Connect(_) => Err("second CONNECT on one connection".into()),
            Packet::PubRec(_) | Packet::PubRel(_) | Packet::PubComp(_) => {
                Err("QoS 2 flow packet (IoTDA has no QoS 2)".into())
            }
            other => Err(format!(
                "{:?} is a server packet, not expected from a device",
                other.packet_type()
            )),
        }
    }

    async fn on_publish(&mut self, p: Publish<'_>) -> Result<(), Close> {
        let qos = p.qos_pid.qos();
        if qos == QoS::ExactlyOnce {
            return Err(format!("PUBLISH QoS 2 on {} (IoTDA has no QoS 2)", p.topic));
        }
        if p.retain {
            return Err(format!(
                "PUBLISH with retain on {} (IoTDA has no retained messages)",
                p.topic
            ));
        }
        let limits = self.shared.config.limits;
        let acc = match check_publish(&self.device_id, p.topic, p.payload.len(), &limits) {
            Verdict::Close(why) => return Err(why),
            Verdict::Reject(why) => {
                self.reject(p.topic, &why);
                return Ok(());
            }
            Verdict::Accept(a) => a,
        };
        if !self
            .rate
            .allow(std::time::Instant::now(), limits.uplinks_per_sec)
        {
            self.reject(
                p.topic,
                &format!("over {} uplinks per second", limits.uplinks_per_sec),
            );
            return Ok(());
        }
        let kind = iotda::classify_for(self.device_id.as_bytes(), acc.topic.as_bytes());
        let too_big = (kind == iotda::Topic::PropertiesReport
            && p.payload.len() > limits.max_property_report)
            .then(|| {
                format!(
                    "property report of {} bytes: over the {} byte limit (not applied)",
                    p.payload.len(),
                    limits.max_property_report
                )
            });
        self.record(&p, acc.request_id, too_big.clone());
        if let QosPid::AtLeastOnce(pid) = p.qos_pid {
            self.write(&Packet::PubAck(pid)).await?;
        }
        match too_big {
            Some(why) => self.reject(p.topic, &why),
            None => self.react(acc.topic, kind, p.payload),
        }
        // Messages kept for this device go out at its next uplink.
        self.push_pending(true).await
    }

    fn record(&self, p: &Publish<'_>, request_id: Option<&str>, rejected: Option<String>) {
        let shared = &self.shared;
        let n = shared.uplinks_total.fetch_add(1, Ordering::Relaxed);
        let mut st = shared.lock();
        let Some(dev) = st.devices.get_mut(&self.device_id) else {
            return;
        };
        let up = Uplink {
            seq: dev.uplink_count,
            topic: p.topic.to_string(),
            payload: p.payload.to_vec(),
            qos: p.qos_pid.qos().as_u8(),
            time: event_time_now(),
            time_ms: now_ms(),
            request_id: request_id.map(str::to_string),
            rejected,
        };
        let (text, encoding) = payload_text(p.payload);
        let ev = json!({"topic": p.topic, "qos": up.qos, "payload": text, "encoding": encoding,
                        "request_id": up.request_id, "seq": up.seq, "uplinks": dev.uplink_count + 1});
        dev.uplink_count += 1;
        if dev.uplinks.len() >= shared.config.uplink_history.max(1) {
            dev.uplinks.pop_front();
        }
        dev.uplinks.push_back(up);
        drop(st);
        shared.trace.emit(Kind::Uplink, &self.device_id, ev);
        if shared.config.log_uplinks {
            let text = match std::str::from_utf8(p.payload) {
                Ok(s) => {
                    let flat: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
                    if flat.chars().count() > 300 {
                        let cut: String = flat.chars().take(300).collect();
                        format!("{cut}...")
                    } else {
                        flat
                    }
                }
                Err(_) => format!("<{} bytes of binary>", p.payload.len()),
            };
            log!(
                "uplink #{n} {} {} qos={} {}",
                self.device_id,
                p.topic,
                p.qos_pid.qos().as_u8(),
                text
            );
        }
    }

    /// What the platform does with an uplink (the connection's peer is
    /// `self.peer`, used in logs only).
    fn react(&self, topic: &str, t: iotda::Topic<'_>, payload: &[u8]) {
        let id = self.device_id.as_str();
        let json: Option<Value> = serde_json::from_slice(payload).ok();
        use iotda::Topic;
        match t {
            Topic::PropertiesReport => {
                if let Some(v) = &json {
                    {
                        let mut st = self.shared.lock();
                        if let Some(dev) = st.devices.get_mut(id) {
                            crate::shadow::apply_report(dev, v);
                        }
                        // Desired values not matched by the report go down again.
                        crate::shadow::push_desired(&mut st, &self.shared, id);
                    }
                    self.shared.trace_device_changed(id);
                }
            }
            Topic::CommandResponse { request_id }
            | Topic::PropertiesSetResponse { request_id }
            | Topic::PropertiesGetResponse { request_id } => {
                let key = (id.to_string(), request_id.to_string());
                let (w, desired) = {
                    let mut st = self.shared.lock();
                    (st.waiters.remove(&key), st.desired_requests.remove(&key))
                };
                match w {
                    Some(w) => {
                        let _ = w.send(payload.to_vec());
                    }
                    None if desired => {
                        log!("{id}: answered the desired-shadow property set {request_id}")
                    }
                    None => log!("{id}: response {request_id} matches no waiting request"),
                }
            }
            Topic::ShadowGet { request_id } => {
                let service = json
                    .as_ref()
                    .and_then(|v| v.get("service_id"))
                    .and_then(Value::as_str);
                let mut st = self.shared.lock();
                let shadow = st.shadow_json(id, service).unwrap_or_default();
                let body = json!({"object_device_id": id, "shadow": shadow});
                let topic =
                    format!("$oc/devices/{id}/sys/shadow/get/response/request_id={request_id}");
                let dl = self.shared.next_id();
                st.deliver(dl, id, &topic, body.to_string().into_bytes(), false);
            }
            Topic::EventsUp => {
                if let Some(v) = &json {
                    self.on_events(v);
                }
            }
            Topic::NotOurs => {
                log!(
                    "{id}: uplink on custom topic {topic} (recorded); from {}",
                    self.peer
                );
            }
            _ => {}
        }
    }

    fn on_events(&self, v: &Value) {
        let id = self.device_id.as_str();
        let Some(services) = v.get("services").and_then(Value::as_array) else {
            return;
        };
        for s in services {
            let sid = s.get("service_id").and_then(Value::as_str).unwrap_or("");
            let etype = s.get("event_type").and_then(Value::as_str).unwrap_or("");
            let paras = s.get("paras").cloned().unwrap_or(Value::Null);
            match (sid, etype) {
                ("$time_sync", "time_sync_request") => {
                    let recv = now_ms();
                    let device_send = paras.get("device_send_time").cloned().unwrap_or(json!(0));
                    let body = json!({
                        "object_device_id": id,
                        "services": [{
                            "service_id": "$time_sync",
                            "event_type": "time_sync_response",
                            "event_time": event_time_now(),
                            "paras": {
                                "device_send_time": device_send,
                                "server_recv_time": recv,
                                "server_send_time": now_ms(),
                            }
                        }]
                    });
                    self.send_event(body);
                }
                ("$ota", "version_report") => {
                    let sw = paras.get("sw_version").and_then(Value::as_str);
                    let fw = paras.get("fw_version").and_then(Value::as_str);
                    let mut st = self.shared.lock();
                    if let Some(dev) = st.devices.get_mut(id) {
                        dev.sw_version = sw.map(str::to_string);
                        dev.fw_version = fw.map(str::to_string);
                    }
                    log!("{id}: $ota version_report sw={sw:?} fw={fw:?}");
                }
                _ => log!("{id}: event {sid}/{etype} recorded"),
            }
        }
    }

    fn send_event(&self, body: Value) {
        let topic = format!("$oc/devices/{}/sys/events/down", self.device_id);
        let dl = self.shared.next_id();
        self.shared.lock().deliver(
            dl,
            &self.device_id,
            &topic,
            body.to_string().into_bytes(),
            false,
        );
    }
}
