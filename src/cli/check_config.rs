//! `nocmap check-config FILE`: loads a configuration, prints every problem
//! as `FILE:LINE:COL: message` and exits 1, or prints a short summary (no
//! secrets) and exits 0. Owns only presentation; all checks live in
//! `nocmap::config`.
use crate::config::Config;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct CheckConfigArgs {
    /// Configuration file to check.
    pub file: PathBuf,
}

pub async fn run(args: CheckConfigArgs) -> anyhow::Result<ExitCode> {
    match Config::load(&args.file) {
        Ok(config) => {
            // The TLS files are read as serve would read them at start.
            if let (Some(cert), Some(key)) = (&config.server.tls_cert, &config.server.tls_key)
                && let Err(e) = crate::server::tls::acceptor(cert, key)
            {
                println!("{}: {e}", args.file.display());
                eprintln!("nocmap: 1 problem(s) in {}", args.file.display());
                return Ok(ExitCode::from(1));
            }
            println!("{}", summary(&args.file, &config));
            if !config.server.listen.ip().is_loopback() && config.server.tls_cert.is_none() {
                eprintln!(
                    "nocmap: warning: {} listens on {} over plain HTTP: tokens and data cross the network in clear; set [server] tls_cert and tls_key, or put a TLS proxy in front",
                    args.file.display(),
                    config.server.listen
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(errors) => {
            println!("{errors}");
            eprintln!(
                "nocmap: {} problem(s) in {}",
                errors.errors.len(),
                args.file.display()
            );
            Ok(ExitCode::from(1))
        }
    }
}

fn summary(file: &std::path::Path, c: &Config) -> String {
    let list = |items: Vec<String>| {
        if items.is_empty() {
            "none".to_string()
        } else {
            items.join(", ")
        }
    };
    let creds = c.credential_names().into_iter().map(String::from).collect();
    let prefixes = c.discovery.prefixes.iter().map(|p| p.to_string()).collect();
    let seeds = c.discovery.seeds.iter().map(|s| s.to_string()).collect();
    let mut inventory = String::new();
    if let Some(path) = &c.inventory.file {
        inventory = format!(
            "\n  inventory: {} (discover: {})",
            path.display(),
            if c.inventory.discover { "yes" } else { "no" }
        );
        for s in &c.inventory_skipped {
            inventory.push_str(&format!(
                "\n    line {} `{}` not polled: {}",
                s.line,
                super::topology_text::plain(&s.name),
                s.reason
            ));
        }
    }
    format!(
        "{}: ok\n  credentials: {}\n  prefixes: {}\n  seeds: {}\n  groups: {}, devices: {}{inventory}\n  listen: {} ({})",
        file.display(),
        list(creds),
        list(prefixes),
        list(seeds),
        c.groups.len(),
        c.devices.len(),
        c.server.listen,
        if c.server.tls_cert.is_some() {
            "https"
        } else {
            "http"
        }
    )
}
