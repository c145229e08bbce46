//! Certificates for the HTTPS tests, made by the openssl command line.
#![allow(dead_code)]
use std::path::{Path, PathBuf};
use std::process::Command;

/// A self-signed EC certificate for 127.0.0.1 and its key, in `dir`.
pub fn make_cert(dir: &Path, name: &str) -> (PathBuf, PathBuf) {
    let cert = dir.join(format!("{name}.crt"));
    let key = dir.join(format!("{name}.key"));
    run(Command::new("openssl")
        .args(["req", "-x509", "-newkey", "ec", "-pkeyopt"])
        .args(["ec_paramgen_curve:prime256v1", "-nodes", "-days", "2"])
        .args(["-subj", "/CN=nocmap-test", "-addext"])
        .args(["subjectAltName=IP:127.0.0.1", "-keyout"])
        .arg(&key)
        .arg("-out")
        .arg(&cert));
    (cert, key)
}

/// A test CA (`ca.crt`, `ca.key` in `dir`), made once per directory.
pub fn make_ca(dir: &Path) -> PathBuf {
    let cert = dir.join("ca.crt");
    if !cert.exists() {
        run(Command::new("openssl")
            .args(["req", "-x509", "-newkey", "ec", "-pkeyopt"])
            .args(["ec_paramgen_curve:prime256v1", "-nodes", "-days", "2"])
            .args(["-subj", "/CN=nocmap-test-ca", "-addext"])
            .args(["basicConstraints=critical,CA:TRUE", "-addext"])
            .args(["keyUsage=critical,keyCertSign,cRLSign", "-keyout"])
            .arg(dir.join("ca.key"))
            .arg("-out")
            .arg(&cert));
    }
    cert
}

/// A certificate signed by `dir`'s CA ([`make_ca`]) with the subject
/// alternative names `san` (`IP:127.0.0.1`) and `usage` (`serverAuth` or
/// `clientAuth`), and its key.
pub fn make_signed(dir: &Path, name: &str, san: &str, usage: &str) -> (PathBuf, PathBuf) {
    let ca = make_ca(dir);
    let cert = dir.join(format!("{name}.crt"));
    let key = dir.join(format!("{name}.key"));
    let csr = dir.join(format!("{name}.csr"));
    let ext = dir.join(format!("{name}.ext"));
    std::fs::write(
        &ext,
        format!("subjectAltName={san}\nextendedKeyUsage={usage}\nbasicConstraints=CA:FALSE\n"),
    )
    .unwrap();
    run(Command::new("openssl")
        .args(["req", "-new", "-newkey", "ec", "-pkeyopt"])
        .args(["ec_paramgen_curve:prime256v1", "-nodes"])
        .args(["-subj", &format!("/CN={name}"), "-keyout"])
        .arg(&key)
        .arg("-out")
        .arg(&csr));
    run(Command::new("openssl")
        .args(["x509", "-req", "-days", "2", "-in"])
        .arg(&csr)
        .arg("-CA")
        .arg(&ca)
        .arg("-CAkey")
        .arg(dir.join("ca.key"))
        .args(["-CAcreateserial", "-extfile"])
        .arg(&ext)
        .arg("-out")
        .arg(&cert));
    (cert, key)
}

/// The certificate's public key pin (base64 of the SHA-256 of its
/// SubjectPublicKeyInfo), as Chromium's
/// `--ignore-certificate-errors-spki-list` takes it.
pub fn spki_pin(cert: &Path) -> String {
    let out = run(Command::new("sh")
        .arg("-c")
        .arg(
            "openssl x509 -in \"$1\" -pubkey -noout | openssl pkey -pubin -outform der \
             | openssl dgst -sha256 -binary | base64",
        )
        .arg("spki_pin")
        .arg(cert));
    let pin = out.trim().to_string();
    assert_eq!(pin.len(), 44, "a base64 SHA-256: {pin}");
    pin
}

/// Runs `c`; its stdout, or a panic with its stderr.
fn run(c: &mut Command) -> String {
    let out = c.output().expect("openssl runs");
    assert!(
        out.status.success(),
        "openssl: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}
