//! What a syslog message says, as values: the parsed message (its
//! severity and facility are `types::syslog`'s closed sets). Pure; no I/O. Every text a device sent is kept as text
//! (non-UTF-8 bytes replaced, control characters left for the JSON
//! encoder) and bounded by the parser.
use crate::types::UnixMillis;
pub use crate::types::syslog::{Facility, SyslogSeverity, UnknownSeverity};

/// Which grammar the message followed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// RFC 5424 (`<PRI>1 TIMESTAMP HOST APP PROCID MSGID SD MSG`).
    Rfc5424,
    /// RFC 3164 and what devices send under its name.
    Rfc3164,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Rfc5424 => "rfc5424",
            Format::Rfc3164 => "rfc3164",
        }
    }
}

/// One parsed message. Texts are bounded (`parse::MAX_*`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyslogMessage {
    pub format: Format,
    pub facility: Facility,
    pub severity: SyslogSeverity,
    /// The time the sender wrote, when it wrote one we could read. RFC
    /// 3164 times carry no year and no zone: read as UTC in the year that
    /// puts them closest to the receive time.
    pub timestamp: Option<UnixMillis>,
    /// HOSTNAME (absent when the sender left it out or wrote `-`).
    pub host: Option<String>,
    /// APP-NAME, or the RFC 3164 TAG without its `[pid]`.
    pub app: Option<String>,
    pub procid: Option<String>,
    pub msgid: Option<String>,
    /// RFC 5424 STRUCTURED-DATA as sent (`[id k="v"]…`).
    pub structured_data: Option<String>,
    /// MSG (a leading BOM removed).
    pub message: String,
}
