//! What the platform does with an accepted uplink: recorded (inspection
//! endpoint, trace), then reports feed the shadow, responses wake the
//! waiting REST call, shadow gets and time syncs are answered.

use super::*;

impl Conn {
    pub(super) fn record(
        &self,
        p: &Publish<'_>,
        request_id: Option<&str>,
        rejected: Option<String>,
    ) {
        let shared = &self.shared;
        let n = shared.uplinks_total.fetch_add(1, Ordering::Relaxed);
        let mut st = shared.lock();
        let Some(dev) = st.devices.get_mut(&self.device_id) else {
            return;
        };
        let up = Uplink {
            seq: dev.uplink_count,
            topic: p.topic_str().to_string(),
            payload: p.payload.to_vec(),
            qos: p.qos_pid.qos().as_u8(),
            time: event_time_now(),
            time_ms: now_ms(),
            request_id: request_id.map(str::to_string),
            rejected,
        };
        let (text, encoding) = payload_text(p.payload);
        let ev = json!({"topic": p.topic_str(), "qos": up.qos, "payload": text, "encoding": encoding,
                        "request_id": up.request_id, "uplink_seq": up.seq, "uplinks": dev.uplink_count + 1});
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
                p.topic_str(),
                p.qos_pid.qos().as_u8(),
                text
            );
        }
    }

    /// What the platform does with an uplink (the connection's peer is
    /// `self.peer`, used in logs only).
    pub(super) fn react(&self, topic: &str, t: iotda::Topic<'_>, payload: &[u8]) {
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
            Topic::BootstrapUp => self.bootstrap(),
            Topic::GatewaySubDevicesReport => {
                if let Some(v) = &json {
                    crate::gateway::sub_properties_report(&mut self.shared.lock(), id, v);
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
        let object_id = v
            .get("object_device_id")
            .and_then(Value::as_str)
            .unwrap_or(id);
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
                    drop(st);
                    crate::ota::on_version(&self.shared, id, sw, fw);
                }
                ("$ota", "upgrade_progress_report") => {
                    log!("{id}: $ota upgrade_progress_report {paras}");
                    crate::ota::on_progress(&self.shared, id, &paras);
                }
                _ if crate::services::on_event(&self.shared, id, object_id, s) => {}
                _ => log!("{id}: event {sid}/{etype} recorded"),
            }
        }
    }

    /// IoTDP's answer on `bootstrap/down`: the IoTDA address the device is
    /// to log in to, and its initConfig (the request's payload, empty or
    /// `{"baseStrategyKeyword": ...}`, selects nothing here).
    fn bootstrap(&self) {
        let id = self.device_id.as_str();
        let mut st = self.shared.lock();
        let Some(dev) = st.devices.get(id) else {
            return;
        };
        let (address, init) = dev.bootstrap.clone().unwrap_or_else(|| {
            let a = self.shared.config.bootstrap_address.clone();
            (a.unwrap_or_default(), String::new())
        });
        log!("{id}: bootstrap request: answering address {address}");
        let body = json!({"address": address, "initConfig": init});
        let topic = format!("$oc/devices/{id}/sys/bootstrap/down");
        let dl = self.shared.next_id();
        st.deliver(dl, id, &topic, body.to_string().into_bytes(), false);
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
