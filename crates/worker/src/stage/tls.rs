//! TLS for explicit FTPS (`ftps://`: `AUTH TLS` on the control connection, protected data
//! connections): rustls with the aws-lc-rs provider, verifying the server against the
//! system's trust store, or only against the CAs in `ftps_ca_file` when it is set.

use std::sync::Arc;

use fbs_core::config::StagingConfig;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use rustls::{ClientConfig, RootCertStore};
use rustls_platform_verifier::ConfigVerifierExt;
use suppaftp::tokio::AsyncRustlsConnector;

/// The TLS connector for FTPS targets, or why there is none.
pub fn connector(cfg: &StagingConfig) -> Result<AsyncRustlsConnector, String> {
    let config = match &cfg.ftps_ca_file {
        None => ClientConfig::with_platform_verifier()
            .map_err(|e| format!("the system's trust store: {e}"))?,
        Some(path) => {
            let mut roots = RootCertStore::empty();
            let certs = CertificateDer::pem_file_iter(path)
                .map_err(|e| format!("ftps_ca_file {}: {e}", path.display()))?;
            for cert in certs {
                let cert = cert.map_err(|e| format!("ftps_ca_file {}: {e}", path.display()))?;
                roots
                    .add(cert)
                    .map_err(|e| format!("ftps_ca_file {}: {e}", path.display()))?;
            }
            ClientConfig::builder()
                .with_root_certificates(roots)
                .with_no_client_auth()
        }
    };
    Ok(AsyncRustlsConnector::from(
        tokio_rustls::TlsConnector::from(Arc::new(config)),
    ))
}
