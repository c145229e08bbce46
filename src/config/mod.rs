//! Configuration: the `nocmap.toml` format, its defaults, loading with
//! secret resolution, and validation that reports every problem with its
//! line and column.
//!
//! Loading runs in passes so one mistake never hides another: a spanned
//! parse (syntax), a key-by-key walk (unknown keys, types), serde into the
//! typed [`Config`], secret resolution (`env:`/`file:`), then
//! [`Config::validate`]. This module must not open sockets or start
//! subsystems; each subsystem is handed only its own section.
pub mod defaults;
mod engine_settings;
pub mod event_rules;
pub mod intervals;
pub mod inventory;
mod model;
mod model_alerts;
mod model_nats;
mod secret;
mod spans;
mod validate;
mod validate_alerts;
mod validate_server;

pub use event_rules::{EventMatchConfig, VarbindCondition};
pub use model::{
    AuthProtocol, Config, Credential, Device, DiscoveryConfig, Group, IcmpConfig, PollConfig,
    Prefix, PrivProtocol, RemoteWriteConfig, SecurityLevel, ServerConfig, SnmpConfig, SnmpVersion,
    TrapsConfig,
};
pub use model_alerts::{
    AlertRule, Direction, Maintenance, Receiver, ReceiverFormat, RuleKind, ScopeConfig, Severity,
    Tagging, Timestamp, WeeklySlot,
};
pub use model_nats::{NatsConfig, NatsRole, valid_site};
pub use secret::{Secret, SecretError};
pub use validate::Problem;

use serde::Deserialize;
use std::collections::HashMap;
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// One problem in a configuration file. `line` and `column` are 1-based;
/// both are 0 when the problem is about the whole file (e.g. unreadable).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

/// Every problem found in one configuration file, in line order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigErrors {
    pub path: PathBuf,
    pub errors: Vec<ConfigError>,
}

impl fmt::Display for ConfigErrors {
    /// One `FILE:LINE:COL: message` line per problem.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.errors.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            if e.line == 0 {
                write!(f, "{}: {}", self.path.display(), e.message)?;
            } else {
                write!(
                    f,
                    "{}:{}:{}: {}",
                    self.path.display(),
                    e.line,
                    e.column,
                    e.message
                )?;
            }
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}

impl Config {
    /// Reads, checks and resolves a configuration file.
    pub fn load(path: impl AsRef<Path>) -> Result<Config, ConfigErrors> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| ConfigErrors {
            path: path.to_path_buf(),
            errors: vec![ConfigError {
                line: 0,
                column: 0,
                message: format!("cannot read configuration: {}", e.kind()),
            }],
        })?;
        Config::from_toml(&text).map_err(|errors| ConfigErrors {
            path: path.to_path_buf(),
            errors,
        })
    }

    /// Checks and resolves configuration text (see [`Config::load`]).
    pub fn from_toml(text: &str) -> Result<Config, Vec<ConfigError>> {
        let at = |span: Range<usize>, message: String| {
            let (line, column) = spans::line_col(text, span.start);
            ConfigError {
                line,
                column,
                message,
            }
        };
        let (doc, syntax) = toml::de::DeTable::parse_recoverable(text);
        if !syntax.is_empty() {
            // `message()` only: the full Display quotes the source line,
            // which may hold a secret.
            return Err(sorted(
                syntax
                    .iter()
                    .map(|e| at(e.span().unwrap_or(0..0), e.message().to_string()))
                    .collect(),
            ));
        }
        let walked = spans::walk(&doc);
        let mut errors: Vec<ConfigError> = walked
            .errors
            .iter()
            .map(|(s, m)| at(s.clone(), m.clone()))
            .collect();
        // Later passes run on what is left, so their problems are reported
        // together with the type errors above.
        let mut config = match Config::deserialize(toml::de::Deserializer::from(walked.pruned)) {
            Ok(c) => c,
            Err(e) => {
                errors.push(at(e.span().unwrap_or(0..0), e.message().to_string()));
                return Err(sorted(errors));
            }
        };
        let locate = |path: &str| -> Range<usize> {
            let mut p = path;
            loop {
                if let Some(s) = walked.spans.get(p) {
                    return s.clone();
                }
                match p.rfind(['.', '[']) {
                    Some(i) => p = &p[..i],
                    None => return 0..0,
                }
            }
        };
        let later: Vec<Problem> = config
            .resolve_secrets()
            .into_iter()
            .chain(config.check_paths())
            .chain(config.validate())
            .collect();
        // The inventory file's rows join `[[devices]]` only once the
        // entries written in the file are known to be sound.
        let later: Vec<Problem> = if later.is_empty() {
            config.load_inventory()
        } else {
            later
        };
        for p in later {
            let path = original_path(&p.path, &walked.kept);
            let consequence = walked.removed.contains(&path)
                || p.depends_on
                    .iter()
                    .any(|d| walked.removed.contains(&original_path(d, &walked.kept)));
            if consequence {
                continue;
            }
            errors.push(at(locate(&path), format!("{path}: {}", p.message)));
        }
        if errors.is_empty() {
            Ok(config)
        } else {
            Err(sorted(errors))
        }
    }

    /// Replaces every `env:`/`file:` secret with its value.
    fn resolve_secrets(&mut self) -> Vec<Problem> {
        let mut problems = Vec::new();
        for (i, c) in self.credentials.iter_mut().enumerate() {
            for (key, slot) in [
                ("community", &mut c.community),
                ("auth_password", &mut c.auth_password),
                ("priv_password", &mut c.priv_password),
            ] {
                if let Some(raw) = slot.as_ref() {
                    match secret::resolve(raw) {
                        Ok(s) => *slot = Some(s),
                        Err(e) => problems.push(Problem {
                            path: format!("credentials[{i}].{key}"),
                            message: e.to_string(),
                            depends_on: Vec::new(),
                        }),
                    }
                }
            }
        }
        let mut slots_owned: Vec<(String, &mut Secret)> = Vec::new();
        let mut slots = vec![
            ("server.token", &mut self.server.token),
            ("server.read_only_token", &mut self.server.read_only_token),
        ];
        if let Some(rw) = self.remote_write.as_mut() {
            slots.push(("remote_write.bearer_token", &mut rw.bearer_token));
            slots.push((
                "remote_write.basic_auth_password",
                &mut rw.basic_auth_password,
            ));
        }
        if let Some(n) = self.nats.as_mut() {
            slots.push(("nats.password", &mut n.password));
            slots.push(("nats.nkey_seed", &mut n.nkey_seed));
        }
        for (i, r) in self.receivers.iter_mut().enumerate() {
            if let Some(t) = r.bearer_token.as_mut() {
                slots_owned.push((format!("receiver[{i}].bearer_token"), t));
            }
            for (name, v) in r.headers.iter_mut() {
                slots_owned.push((format!("receiver[{i}].headers.{name}"), v));
            }
        }
        for (path, slot) in slots_owned {
            match secret::resolve(slot) {
                Ok(s) => *slot = s,
                Err(e) => problems.push(Problem {
                    path,
                    message: e.to_string(),
                    depends_on: Vec::new(),
                }),
            }
        }
        for (path, slot) in slots {
            if let Some(raw) = slot.as_ref() {
                match secret::resolve(raw) {
                    Ok(s) => *slot = Some(s),
                    Err(e) => problems.push(Problem {
                        path: path.to_string(),
                        message: e.to_string(),
                        depends_on: Vec::new(),
                    }),
                }
            }
        }
        problems
    }

    /// Directories that must exist when the configuration is loaded.
    fn check_paths(&self) -> Vec<Problem> {
        self.snmp
            .mib_dirs
            .iter()
            .enumerate()
            .filter(|(_, d)| !d.is_dir())
            .map(|(i, d)| Problem {
                path: format!("snmp.mib_dirs[{i}]"),
                message: format!("{} is not a directory", d.display()),
                depends_on: Vec::new(),
            })
            .collect()
    }

    /// Credential names in order (never their secrets), for summaries.
    pub fn credential_names(&self) -> Vec<&str> {
        self.credentials.iter().map(|c| c.name.as_str()).collect()
    }
}

/// Maps `credentials[1].name` in the pruned document back to the index the
/// entry had in the file.
fn original_path(path: &str, kept: &HashMap<&'static str, Vec<usize>>) -> String {
    let Some((section, rest)) = path.split_once('[') else {
        return path.to_string();
    };
    let Some((idx, tail)) = rest.split_once(']') else {
        return path.to_string();
    };
    match (kept.get(section), idx.parse::<usize>()) {
        (Some(map), Ok(i)) if i < map.len() => format!("{section}[{}]{tail}", map[i]),
        _ => path.to_string(),
    }
}

fn sorted(mut errors: Vec<ConfigError>) -> Vec<ConfigError> {
    errors.sort_by_key(|e| (e.line, e.column));
    errors.dedup();
    errors
}
