//! One logged-in connection: the packet loop, downlinks with QoS 1
//! redelivery, kept messages, SUBSCRIBE and PUBLISH with IoTDA's rules
//! (`crate::uplink`).

use super::*;

impl Conn {
    pub(super) async fn session(
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
                    // Bytes of a skipped PUBLISH count as the device talking.
                    Ok(_) if skip > 0 => last_rx = Instant::now(),
                    Ok(_) => {}
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
            topic: topic.as_bytes(),
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
                topic: topic.as_bytes(),
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
                        let filter = t.filter_str();
                        let known = dev.subscriptions.iter().any(|(f, _)| f == filter);
                        let refused = if t.qos == QoS::ExactlyOnce {
                            Some("IoTDA has no QoS 2".to_string())
                        } else if let Err(why) = check_filter(&self.device_id, filter, &limits) {
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
                                    filter
                                );
                                SubackReturnCode::Failure
                            }
                            None => {
                                dev.subscriptions.retain(|(f, _)| f != filter);
                                dev.subscriptions.push((filter.to_string(), t.qos));
                                desired_topic |= crate::state::topic_matches(filter, &set_topic);
                                log!(
                                    "{}: subscribed {} qos={}",
                                    self.device_id,
                                    filter,
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
                self.write(&Packet::UnsubAck(u.packet_id)).await?;
                self.shared.trace_device_changed(&self.device_id);
                Ok(())
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
            return Err(format!(
                "PUBLISH QoS 2 on {} (IoTDA has no QoS 2)",
                p.topic_str()
            ));
        }
        if p.retain {
            return Err(format!(
                "PUBLISH with retain on {} (IoTDA has no retained messages)",
                p.topic_str()
            ));
        }
        let limits = self.shared.config.limits;
        let acc = match check_publish(&self.device_id, p.topic_str(), p.payload.len(), &limits) {
            Verdict::Close(why) => return Err(why),
            Verdict::Reject(why) => {
                self.reject(p.topic_str(), &why);
                return Ok(());
            }
            Verdict::Accept(a) => a,
        };
        if !self
            .rate
            .allow(std::time::Instant::now(), limits.uplinks_per_sec)
        {
            self.reject(
                p.topic_str(),
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
            Some(why) => self.reject(p.topic_str(), &why),
            None => self.react(acc.topic, kind, p.payload),
        }
        // Messages kept for this device go out at its next uplink.
        self.push_pending(true).await
    }
}
