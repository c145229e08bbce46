//! The store's typed errors: each names the operation that failed.
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("opening store {path}: {source}")]
    Open {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error(
        "store {path}: the file system is read-only; the monitor needs to write its history there (choose another --db, or make it read-write again)"
    )]
    ReadOnly { path: PathBuf },
    #[error("store {path}: journal mode is {mode}, WAL could not be enabled")]
    NoWal { path: PathBuf, mode: String },
    #[error(
        "store {path} has schema version {found}, newer than this build supports ({supported}); use a newer nocmap"
    )]
    NewerSchema {
        path: PathBuf,
        found: i64,
        supported: i64,
    },
    #[error("store {path}: migrating schema to version {to}: {source}")]
    Migrate {
        path: PathBuf,
        to: i64,
        source: rusqlite::Error,
    },
    #[error("sample {metric} of {device}/{subject} at {} ms is not a finite number", .at_ms.0)]
    NotFinite {
        device: String,
        subject: String,
        metric: String,
        at_ms: crate::types::UnixMillis,
    },
    #[error("store: {op}: {source}")]
    Sql {
        op: &'static str,
        source: rusqlite::Error,
    },
    #[error("store: encoding or decoding a topology snapshot: {0}")]
    Json(#[from] serde_json::Error),
}

/// Attaches the operation name to a rusqlite result.
pub(crate) trait SqlContext<T> {
    fn sql(self, op: &'static str) -> Result<T, StoreError>;
}

impl<T> SqlContext<T> for Result<T, rusqlite::Error> {
    fn sql(self, op: &'static str) -> Result<T, StoreError> {
        self.map_err(|source| StoreError::Sql { op, source })
    }
}
