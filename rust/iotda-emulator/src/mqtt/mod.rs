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
                                run_conn(shared, Box::new(rd), Box::new(wr), peer, None, stop).await;
                            }
                            Some(acceptor) => {
                                let hs = tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await;
                                match hs {
                                    Ok(Ok(s)) => {
                                        // the client certificate, verified by the handshake
                                        let cert = s.get_ref().1.peer_certificates()
                                            .and_then(|c| c.first())
                                            .map(|c| crate::x509::fingerprint(c));
                                        let (rd, wr) = tokio::io::split(s);
                                        run_conn(shared, Box::new(rd), Box::new(wr), peer, Some(cert), stop).await;
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

/// `tls`: `None` on plain TCP, else the SHA-256 fingerprint of the client
/// certificate, if one was presented.
async fn run_conn(
    shared: Arc<Shared>,
    mut rd: Rd,
    mut wr: Wr,
    peer: SocketAddr,
    tls: Option<Option<String>>,
    mut stop: watch::Receiver<bool>,
) {
    let mut buf = BytesMut::with_capacity(4096);
    // 1. CONNECT, within the connect timeout.
    let deadline = Instant::now() + shared.config.connect_timeout;
    let login = loop {
        match next_packet(&buf) {
            Next::Packet(Packet::Connect(c), n) => {
                let r = login(&shared, &c, peer, tls.as_ref());
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

mod connect;
mod react;
mod session;

use connect::{disconnect, login};
