//! A CONNECT: IoTDA's login rules applied (`crate::auth`), the connection
//! registered (an earlier one of the same device kicked), and its end.

use super::*;

pub(super) struct Accepted {
    pub(super) device_id: String,
    pub(super) conn_id: u64,
    pub(super) keepalive: u16,
    pub(super) session_present: bool,
    pub(super) rx: mpsc::UnboundedReceiver<ConnMsg>,
}

/// Applies the login rules; on success registers the connection (kicking
/// an earlier one of the same device).
pub(super) fn login(
    shared: &Arc<Shared>,
    c: &Connect<'_>,
    peer: SocketAddr,
    tls: Option<&Option<String>>,
) -> Result<Accepted, ConnectReturnCode> {
    let peer_cert = tls.and_then(|c| c.as_deref());
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
        peer_cert,
        crate::state::now_secs(),
        shared.config.sign1_tolerance_hours,
    )
    .map_err(|(code, why)| refuse(code, &why))?;
    if dev.auth.certificate && dev.auth.fingerprint.is_none() {
        log!(
            "{}: certificate fingerprint {peer_cert:?} recorded at the first login",
            dev.device_id
        );
        dev.auth.fingerprint = peer_cert.map(str::to_string);
    }
    let tls = tls.is_some();
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
        "{}: online (client_id={}, MQTT {}{}, keepalive {} s, {}, from {peer})",
        dev.device_id,
        c.client_id,
        if c.protocol == mqtt_core::codec::Protocol::V31 {
            "3.1"
        } else {
            "3.1.1"
        },
        if tls { " over TLS" } else { "" },
        c.keep_alive,
        if dev.auth.certificate {
            "certificate login".to_string()
        } else {
            format!("sign type {}", cid.sign_type)
        }
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

pub(super) fn disconnect(shared: &Shared, device_id: &str, conn_id: u64, why: &str) {
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
