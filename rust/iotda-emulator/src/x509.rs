//! Certificate (X.509) devices, as IoTDA authenticates them: the TLS
//! listener asks every client for a certificate (optional, so secret
//! devices still log in), verifies the chain against the device CA
//! certificates, and the CONNECT of a device registered with auth_type
//! CERTIFICATES is accepted when the certificate's SHA-256 fingerprint is
//! the registered one (`crate::auth`).
//!
//! Device CAs: `--device-ca FILE` (PEM), plus the generated test CA with
//! `--tls-generate DIR`, which also signs the certificates `--cert-device
//! ID` writes: `DIR/ID.crt` (PEM), `DIR/ID.der`, `DIR/ID.key` (PKCS#8
//! PEM), `DIR/ID.key.der` (PKCS#8 DER, for MicroPython's `ssl_params`).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use rustls::server::danger::ClientCertVerifier;
use rustls::server::WebPkiClientVerifier;

use crate::tls::TlsError;

/// Lowercase hex SHA-256 of a DER certificate (what IoTDA's console calls
/// the certificate's fingerprint).
pub fn fingerprint(der: &[u8]) -> String {
    ring::digest::digest(&ring::digest::SHA256, der)
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A fingerprint as given by a user: 64 hex digits, any case, `:` allowed
/// between bytes; returned in lowercase without separators.
pub fn normalize_fingerprint(s: &str) -> Result<String, String> {
    let hex: String = s.chars().filter(|c| *c != ':').collect();
    if hex.len() != 64 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(format!(
            "fingerprint {s:?} is not a SHA-256 fingerprint (64 hex digits)"
        ));
    }
    Ok(hex.to_ascii_lowercase())
}

/// The verifier of the TLS listener: certificates chaining to one of
/// `cas` (PEM files) are accepted, and so are clients without one.
pub fn client_verifier(cas: &[PathBuf]) -> Result<Arc<dyn ClientCertVerifier>, TlsError> {
    let mut roots = rustls::RootCertStore::empty();
    for path in cas {
        let pem = |e: String| TlsError::Pem(path.clone(), e);
        for c in CertificateDer::pem_file_iter(path).map_err(|e| pem(e.to_string()))? {
            roots
                .add(c.map_err(|e| pem(e.to_string()))?)
                .map_err(|e| pem(e.to_string()))?;
        }
    }
    WebPkiClientVerifier::builder_with_provider(
        Arc::new(roots),
        Arc::new(rustls::crypto::ring::default_provider()),
    )
    .allow_unauthenticated()
    .build()
    .map_err(|e| TlsError::Pem(cas.first().cloned().unwrap_or_default(), e.to_string()))
}

/// The files of a generated device certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceCert {
    pub cert_pem: PathBuf,
    pub cert_der: PathBuf,
    pub key_pem: PathBuf,
    pub key_der: PathBuf,
    pub fingerprint: String,
}

/// Writes a client certificate for `device_id` (CN = device id) signed by
/// the test CA that [`crate::tls::generate`] made in `dir` (kept if present).
pub fn generate_device_cert(dir: &Path, device_id: &str) -> Result<DeviceCert, TlsError> {
    let file = |ext: &str| dir.join(format!("{device_id}.{ext}"));
    let out = DeviceCert {
        cert_pem: file("crt"),
        cert_der: file("der"),
        key_pem: file("key"),
        key_der: file("key.der"),
        fingerprint: String::new(),
    };
    let read = |p: &Path| std::fs::read(p).map_err(|e| TlsError::Io(p.to_path_buf(), e));
    if out.cert_der.is_file() && out.key_der.is_file() {
        let fingerprint = fingerprint(&read(&out.cert_der)?);
        return Ok(DeviceCert { fingerprint, ..out });
    }
    let ca_key_path = dir.join("ca.key");
    let ca_pem = String::from_utf8_lossy(&read(&ca_key_path)?).into_owned();
    let ca_key = KeyPair::from_pem(&ca_pem).map_err(TlsError::Generate)?;
    // The CA's subject as tls::generate wrote it: the issuer name of the
    // new certificate must equal it for the chain to verify.
    let issuer = Issuer::new(test_ca_params()?, ca_key);
    let mut params = CertificateParams::new(Vec::<String>::new()).map_err(TlsError::Generate)?;
    params
        .distinguished_name
        .push(DnType::CommonName, device_id);
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    let key = KeyPair::generate().map_err(TlsError::Generate)?;
    let cert = params
        .signed_by(&key, &issuer)
        .map_err(TlsError::Generate)?;
    let write =
        |p: &Path, b: &[u8]| std::fs::write(p, b).map_err(|e| TlsError::Io(p.to_path_buf(), e));
    write(&out.key_pem, key.serialize_pem().as_bytes())?;
    write(&out.key_der, &key.serialize_der())?;
    write(&out.cert_pem, cert.pem().as_bytes())?;
    write(&out.cert_der, cert.der())?;
    Ok(DeviceCert {
        fingerprint: fingerprint(cert.der()),
        ..out
    })
}

/// The parameters of the generated test CA (shared with `tls::generate`).
pub(crate) fn test_ca_params() -> Result<CertificateParams, TlsError> {
    let mut p = CertificateParams::new(Vec::<String>::new()).map_err(TlsError::Generate)?;
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.distinguished_name
        .push(DnType::CommonName, "iotda-emulator test CA");
    p.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    Ok(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints() {
        // sha256(b"") as `sha256sum </dev/null` prints it
        assert_eq!(
            fingerprint(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        let upper = "E3:B0:C4:42:98:FC:1C:14:9A:FB:F4:C8:99:6F:B9:24:27:AE:41:E4:64:9B:93:4C:A4:95:99:1B:78:52:B8:55";
        assert_eq!(normalize_fingerprint(upper).unwrap(), fingerprint(b""));
        assert!(normalize_fingerprint("abc").is_err());
        assert!(normalize_fingerprint(&"g".repeat(64)).is_err());
        // a SHA-1 fingerprint (40 hex digits) is not what IoTDA registers
        assert!(normalize_fingerprint(&"a".repeat(40)).is_err());
    }
}
