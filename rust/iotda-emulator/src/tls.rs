//! The TLS listener's certificates: PEM files given by the user, or a test
//! CA and a server certificate generated with rcgen (`--tls-generate DIR`),
//! so device scripts can run with certificate verification on.
//!
//! `DIR` gets `ca.pem` and `ca.der` (give one to the device as its CA:
//! MicroPython's `cadata` takes DER), `ca.key`, `server.pem` (server
//! certificate, then the CA) and `server.key`. Files
//! already there are reused, so a device keeps trusting the same CA across
//! runs.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rcgen::{CertificateParams, DnType, ExtendedKeyUsagePurpose, Issuer, KeyPair};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::ServerConfig;

/// Host names always in a generated server certificate.
pub const DEFAULT_NAMES: [&str; 3] = ["localhost", "127.0.0.1", "::1"];

#[derive(Debug)]
pub enum TlsError {
    Io(PathBuf, std::io::Error),
    Pem(PathBuf, String),
    Generate(rcgen::Error),
    Config(rustls::Error),
}

impl fmt::Display for TlsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TlsError::Io(p, e) => write!(f, "{}: {e}", p.display()),
            TlsError::Pem(p, e) => write!(f, "{}: {e}", p.display()),
            TlsError::Generate(e) => write!(f, "generating the test certificates: {e}"),
            TlsError::Config(e) => write!(f, "TLS configuration: {e}"),
        }
    }
}

impl std::error::Error for TlsError {}

/// The files of a generated test CA.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Generated {
    pub ca: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
}

fn write(path: &Path, text: &str) -> Result<(), TlsError> {
    std::fs::write(path, text).map_err(|e| TlsError::Io(path.to_path_buf(), e))
}

/// Creates (or reuses) a test CA and a server certificate for `localhost`,
/// `127.0.0.1`, `::1` and `names` in `dir`.
pub fn generate(dir: &Path, names: &[String]) -> Result<Generated, TlsError> {
    let out = Generated {
        ca: dir.join("ca.pem"),
        cert: dir.join("server.pem"),
        key: dir.join("server.key"),
    };
    let der = dir.join("ca.der");
    if out.ca.is_file() && der.is_file() && out.cert.is_file() && out.key.is_file() {
        return Ok(out);
    }
    std::fs::create_dir_all(dir).map_err(|e| TlsError::Io(dir.to_path_buf(), e))?;
    let ca_key = KeyPair::generate().map_err(TlsError::Generate)?;
    let ca_params = crate::x509::test_ca_params()?;
    let ca_cert = ca_params.self_signed(&ca_key).map_err(TlsError::Generate)?;
    let ca_key_pem = ca_key.serialize_pem();
    let issuer = Issuer::new(ca_params, ca_key);
    let mut all: Vec<String> = DEFAULT_NAMES.iter().map(|s| s.to_string()).collect();
    all.extend(names.iter().cloned());
    let mut params = CertificateParams::new(all).map_err(TlsError::Generate)?;
    params
        .distinguished_name
        .push(DnType::CommonName, "iotda-emulator");
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let key = KeyPair::generate().map_err(TlsError::Generate)?;
    let cert = params
        .signed_by(&key, &issuer)
        .map_err(TlsError::Generate)?;
    write(&dir.join("ca.key"), &ca_key_pem)?;
    write(&out.key, &key.serialize_pem())?;
    write(&out.cert, &format!("{}{}", cert.pem(), ca_cert.pem()))?;
    std::fs::write(&der, ca_cert.der()).map_err(|e| TlsError::Io(der.clone(), e))?;
    write(&out.ca, &ca_cert.pem())?;
    Ok(out)
}

/// A rustls server configuration from PEM files; with `device_cas`, client
/// certificates chaining to them are asked for (optional) and verified.
pub fn server_config(
    cert: &Path,
    key: &Path,
    device_cas: &[PathBuf],
) -> Result<Arc<ServerConfig>, TlsError> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .map_err(|e| TlsError::Pem(cert.to_path_buf(), e.to_string()))?
        .collect::<Result<_, _>>()
        .map_err(|e| TlsError::Pem(cert.to_path_buf(), e.to_string()))?;
    if certs.is_empty() {
        return Err(TlsError::Pem(cert.to_path_buf(), "no certificate".into()));
    }
    let key = PrivateKeyDer::from_pem_file(key)
        .map_err(|e| TlsError::Pem(key.to_path_buf(), e.to_string()))?;
    let builder =
        ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .map_err(TlsError::Config)?;
    let builder = if device_cas.is_empty() {
        builder.with_no_client_auth()
    } else {
        builder.with_client_cert_verifier(crate::x509::client_verifier(device_cas)?)
    };
    let cfg = builder
        .with_single_cert(certs, key)
        .map_err(TlsError::Config)?;
    Ok(Arc::new(cfg))
}

/// A rustls client configuration trusting only the CA in `ca_pem`.
pub fn client_config(ca_pem: &Path) -> Result<Arc<rustls::ClientConfig>, TlsError> {
    let mut roots = rustls::RootCertStore::empty();
    for c in CertificateDer::pem_file_iter(ca_pem)
        .map_err(|e| TlsError::Pem(ca_pem.to_path_buf(), e.to_string()))?
    {
        let c = c.map_err(|e| TlsError::Pem(ca_pem.to_path_buf(), e.to_string()))?;
        roots
            .add(c)
            .map_err(|e| TlsError::Pem(ca_pem.to_path_buf(), e.to_string()))?;
    }
    let cfg = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(TlsError::Config)?
    .with_root_certificates(roots)
    .with_no_client_auth();
    Ok(Arc::new(cfg))
}
