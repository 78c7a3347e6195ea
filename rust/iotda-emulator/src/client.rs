//! A tiny raw MQTT client over `mqtt_core::codec` and a minimal HTTP/1.1
//! client, for the integration tests and the load generator. Not a device
//! SDK: it sends exactly what it is told, so tests can misbehave on purpose.

use std::net::SocketAddr;
use std::time::Duration;

use bytes::{Buf, BytesMut};
use mqtt_core::codec::{
    decode, Connect, LastWill, Packet, Protocol, Publish, QoS, QosPid, Status, Subscribe,
    SubscribeTopic, SubscribeTopics,
};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

/// A plain or TLS stream.
pub trait Stream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Stream for T {}

/// A received packet, owned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum In {
    ConnAck(u8),
    Publish {
        topic: String,
        payload: Vec<u8>,
        qos: u8,
        pid: Option<u16>,
        dup: bool,
    },
    PubAck(u16),
    SubAck(Vec<u8>),
    UnsubAck(u16),
    PingResp,
    Other(String),
    /// The server closed the connection.
    Closed,
}

/// CONNECT fields.
#[derive(Debug, Clone)]
pub struct ConnectOpts {
    pub client_id: String,
    pub username: Option<String>,
    pub password: Option<String>,
    pub keepalive: u16,
    pub clean_session: bool,
    pub protocol: Protocol,
    pub will: bool,
}

impl ConnectOpts {
    pub fn new(client_id: &str, username: &str, password: &str) -> Self {
        ConnectOpts {
            client_id: client_id.into(),
            username: Some(username.into()),
            password: Some(password.into()),
            keepalive: 60,
            clean_session: true,
            protocol: Protocol::V311,
            will: false,
        }
    }

    /// Credentials for `device_id`/`secret` at UTC `unix_secs`.
    pub fn for_device(device_id: &str, secret: &str, sign_type: u8, unix_secs: i64) -> Self {
        let stamp = iotda::time::DateTime::from_unix(unix_secs)
            .map(|d| d.hour_stamp())
            .unwrap_or(*b"2021011909");
        Self::for_device_at(device_id, secret, sign_type, &stamp)
    }

    /// Credentials for an explicit hour stamp.
    pub fn for_device_at(device_id: &str, secret: &str, sign_type: u8, stamp: &[u8; 10]) -> Self {
        let mut pw = [0u8; 64];
        let sign = iotda::SignType::try_from(sign_type).unwrap_or(iotda::SignType::TimestampCheck);
        iotda::password_for(sign, stamp, secret.as_bytes(), &mut pw);
        let cid = format!(
            "{device_id}_0_{sign_type}_{}",
            String::from_utf8_lossy(stamp)
        );
        Self::new(&cid, device_id, &String::from_utf8_lossy(&pw))
    }
}

pub struct Client {
    stream: Box<dyn Stream>,
    buf: BytesMut,
}

pub fn encode(p: &Packet<'_>) -> Vec<u8> {
    let n = p.encoded_len().expect("packet encodes");
    let mut out = vec![0u8; n];
    p.encode(&mut out).expect("packet encodes");
    out
}

impl Client {
    pub async fn tcp(addr: SocketAddr) -> std::io::Result<Client> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        Ok(Client {
            stream: Box::new(stream),
            buf: BytesMut::with_capacity(4096),
        })
    }

    /// A TLS connection verifying the server against `tls` (built with
    /// `crate::tls::client_config`) for `server_name`.
    pub async fn tls(
        addr: SocketAddr,
        tls: std::sync::Arc<rustls::ClientConfig>,
        server_name: &str,
    ) -> std::io::Result<Client> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        let name = rustls::pki_types::ServerName::try_from(server_name.to_string())
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
        let s = tokio_rustls::TlsConnector::from(tls)
            .connect(name, stream)
            .await?;
        Ok(Client {
            stream: Box::new(s),
            buf: BytesMut::with_capacity(4096),
        })
    }

    /// Connects and sends CONNECT; returns the client and the CONNACK code
    /// (`None`: closed without CONNACK).
    pub async fn connect(
        addr: SocketAddr,
        o: &ConnectOpts,
    ) -> std::io::Result<(Client, Option<u8>)> {
        let c = Client::tcp(addr).await?;
        c.login(o).await
    }

    /// [`Client::connect`] over TLS.
    pub async fn connect_tls(
        addr: SocketAddr,
        tls: std::sync::Arc<rustls::ClientConfig>,
        server_name: &str,
        o: &ConnectOpts,
    ) -> std::io::Result<(Client, Option<u8>)> {
        let c = Client::tls(addr, tls, server_name).await?;
        c.login(o).await
    }

    /// Sends CONNECT and waits for the CONNACK's code.
    pub async fn login(self, o: &ConnectOpts) -> std::io::Result<(Client, Option<u8>)> {
        let mut c = self;
        let will = o.will.then_some(LastWill {
            topic: "$oc/devices/x/sys/messages/up",
            message: b"bye",
            qos: QoS::AtMostOnce,
            retain: false,
        });
        let pkt = Packet::Connect(Connect {
            protocol: o.protocol,
            clean_session: o.clean_session,
            keep_alive: o.keepalive,
            client_id: &o.client_id,
            will,
            username: o.username.as_deref(),
            password: o.password.as_deref().map(str::as_bytes),
        });
        c.send(&pkt).await?;
        let code = match c.recv(Duration::from_secs(5)).await {
            Some(In::ConnAck(code)) => Some(code),
            _ => None,
        };
        Ok((c, code))
    }

    pub async fn send(&mut self, p: &Packet<'_>) -> std::io::Result<()> {
        self.stream.write_all(&encode(p)).await
    }

    pub async fn send_raw(&mut self, b: &[u8]) -> std::io::Result<()> {
        self.stream.write_all(b).await
    }

    pub async fn publish(
        &mut self,
        topic: &str,
        payload: &[u8],
        qos: u8,
        pid: u16,
    ) -> std::io::Result<()> {
        let qos_pid = match qos {
            0 => QosPid::AtMostOnce,
            1 => QosPid::AtLeastOnce(pid),
            _ => QosPid::ExactlyOnce(pid),
        };
        self.send(&Packet::Publish(Publish {
            dup: false,
            qos_pid,
            retain: false,
            topic: topic.as_bytes(),
            payload,
        }))
        .await
    }

    pub async fn subscribe(&mut self, filters: &[(&str, u8)], pid: u16) -> std::io::Result<()> {
        let topics: Vec<SubscribeTopic<'_>> = filters
            .iter()
            .map(|(f, q)| SubscribeTopic {
                filter: f.as_bytes(),
                qos: QoS::from_u8(*q).unwrap_or(QoS::AtMostOnce),
            })
            .collect();
        self.send(&Packet::Subscribe(Subscribe {
            packet_id: pid,
            topics: SubscribeTopics::Slice(&topics),
        }))
        .await
    }

    /// Subscribes and waits for the SUBACK's codes.
    pub async fn subscribe_wait(&mut self, filters: &[(&str, u8)], pid: u16) -> Option<Vec<u8>> {
        self.subscribe(filters, pid).await.ok()?;
        loop {
            match self.recv(Duration::from_secs(5)).await? {
                In::SubAck(codes) => return Some(codes),
                In::Closed => return None,
                _ => {}
            }
        }
    }

    /// Next packet within `timeout`; `None` on timeout.
    pub async fn recv(&mut self, timeout: Duration) -> Option<In> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if let Some(p) = self.parse() {
                return Some(p);
            }
            match tokio::time::timeout_at(deadline, self.stream.read_buf(&mut self.buf)).await {
                Err(_) => return None,
                Ok(Ok(0)) | Ok(Err(_)) => return Some(In::Closed),
                Ok(Ok(_)) => {}
            }
        }
    }

    /// Next PUBLISH within `timeout`, skipping other packets.
    pub async fn recv_publish(&mut self, timeout: Duration) -> Option<In> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match self.recv(left).await? {
                p @ In::Publish { .. } => return Some(p),
                In::Closed => return Some(In::Closed),
                _ => {}
            }
        }
    }

    /// Waits until the server closes the connection (true) or `timeout`.
    pub async fn closed_within(&mut self, timeout: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match self.recv(left).await {
                Some(In::Closed) => return true,
                None => return false,
                Some(_) => {}
            }
        }
    }

    fn parse(&mut self) -> Option<In> {
        let (p, n) = match decode(&self.buf) {
            Ok(Status::Complete((p, n))) => (to_owned(&p), n),
            Ok(Status::Partial(_)) => return None,
            Err(e) => {
                let n = self.buf.len();
                self.buf.advance(n);
                return Some(In::Other(format!("decode error {e:?}")));
            }
        };
        self.buf.advance(n);
        Some(p)
    }
}

fn to_owned(p: &Packet<'_>) -> In {
    match p {
        Packet::ConnAck(a) => In::ConnAck(a.code.as_u8()),
        Packet::Publish(p) => In::Publish {
            topic: p.topic_str().to_string(),
            payload: p.payload.to_vec(),
            qos: p.qos_pid.qos().as_u8(),
            pid: p.qos_pid.packet_id(),
            dup: p.dup,
        },
        Packet::PubAck(id) => In::PubAck(*id),
        Packet::SubAck(s) => In::SubAck(s.return_codes.to_vec()),
        Packet::UnsubAck(id) => In::UnsubAck(*id),
        Packet::PingResp => In::PingResp,
        other => In::Other(format!("{:?}", other.packet_type())),
    }
}

/// A minimal HTTP/1.1 request (`Connection: close`); returns status and body.
pub async fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    body: Option<&str>,
) -> std::io::Result<(u16, String)> {
    let mut s = TcpStream::connect(addr).await?;
    let body = body.unwrap_or("");
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).await?;
    let mut out = Vec::new();
    s.read_to_end(&mut out).await?;
    let text = String::from_utf8_lossy(&out).into_owned();
    let (head, rest) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    // hyper may answer chunked; de-chunk if so.
    let body = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        dechunk(rest)
    } else {
        rest.to_string()
    };
    Ok((status, body))
}

fn dechunk(mut s: &str) -> String {
    let mut out = String::new();
    while let Some((len, rest)) = s.split_once("\r\n") {
        let Ok(n) = usize::from_str_radix(len.trim(), 16) else {
            break;
        };
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        s = rest[n..].trim_start_matches("\r\n");
    }
    out
}
