//! net-snmp's `pass_persist` protocol, as a line-by-line state machine:
//! `feed` turns input lines into requests, `answer` renders the reply from a
//! `MibView`.
//!
//! Pure: no I/O. snmpd writes `PING` (reply `PONG`), `get` / `getnext`
//! followed by an OID line (reply `OID`, `TYPE`, `VALUE` or `NONE`), and
//! `set` followed by an OID line and a `TYPE VALUE` line (reply
//! `not-writable`). Anything else is ignored, so a stray line cannot put the
//! agent out of step with snmpd.
use super::bridge_mib::{MibView, Oid};

/// A complete request from snmpd.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    Ping,
    /// None when the OID line was not an OID.
    Get(Option<Oid>),
    GetNext(Option<Oid>),
    Set,
}

/// What the next line is expected to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Expect {
    #[default]
    Command,
    GetOid,
    GetNextOid,
    SetOid,
    SetValue,
}

/// The protocol state between lines.
#[derive(Debug, Default)]
pub struct Session {
    expect: Expect,
}

/// What one input line did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fed {
    /// A request is complete: answer it.
    Request(Request),
    /// Part of a request; wait for more lines.
    More,
    /// Not part of the protocol; ignored.
    Ignored,
}

impl Session {
    pub fn feed(&mut self, line: &str) -> Fed {
        let line = line.trim();
        let (next, fed) = match self.expect {
            Expect::Command => match line.to_ascii_lowercase().as_str() {
                "ping" => (Expect::Command, Fed::Request(Request::Ping)),
                "get" => (Expect::GetOid, Fed::More),
                "getnext" => (Expect::GetNextOid, Fed::More),
                "set" => (Expect::SetOid, Fed::More),
                _ => (Expect::Command, Fed::Ignored),
            },
            Expect::GetOid => (
                Expect::Command,
                Fed::Request(Request::Get(Oid::parse(line))),
            ),
            Expect::GetNextOid => (
                Expect::Command,
                Fed::Request(Request::GetNext(Oid::parse(line))),
            ),
            Expect::SetOid => (Expect::SetValue, Fed::More),
            Expect::SetValue => (Expect::Command, Fed::Request(Request::Set)),
        };
        self.expect = next;
        fed
    }
}

/// The reply to `req`, newline terminated.
pub fn answer(req: &Request, view: &MibView) -> String {
    let found = match req {
        Request::Ping => return "PONG\n".into(),
        Request::Set => return "not-writable\n".into(),
        Request::Get(Some(oid)) => view.get(oid),
        Request::GetNext(Some(oid)) => view.get_next(oid),
        Request::Get(None) | Request::GetNext(None) => None,
    };
    match found {
        Some((oid, value)) => {
            let (ty, text) = value.type_and_text();
            format!("{oid}\n{ty}\n{text}\n")
        }
        None => "NONE\n".into(),
    }
}

/// Whether answering `req` needs the bridge's current state.
pub fn needs_view(req: &Request) -> bool {
    matches!(req, Request::Get(Some(_)) | Request::GetNext(Some(_)))
}

#[cfg(test)]
mod tests {
    use super::super::bridge_mib::BridgeSnapshot;
    use super::*;

    /// Feeds `input` line by line and collects every reply.
    fn converse(input: &str) -> String {
        let view = MibView::build(&BridgeSnapshot::default());
        let mut s = Session::default();
        let mut out = String::new();
        for line in input.lines() {
            if let Fed::Request(r) = s.feed(line) {
                out.push_str(&answer(&r, &view));
            }
        }
        out
    }

    #[test]
    fn a_conversation() {
        let out = converse(
            "PING\nget\n.1.3.6.1.2.1.17.1.2.0\ngetnext\n.1.3.6.1.2.1.17\n\
             getnext\n.1.3.6.1.2.1.17.1.3.0\nset\n.1.3.6.1.2.1.17.1.2.0\ninteger 5\nPING\n",
        );
        assert_eq!(
            out,
            "PONG\n.1.3.6.1.2.1.17.1.2.0\ninteger\n0\n.1.3.6.1.2.1.17.1.2.0\ninteger\n0\n\
             NONE\nnot-writable\nPONG\n"
        );
    }

    #[test]
    fn junk_is_ignored_and_bad_oids_get_none() {
        let out = converse("hello\n\n\u{fffd}\u{0}\nget\nnot.an.oid\ngetnext\n\nPING\n");
        assert_eq!(out, "NONE\nNONE\nPONG\n");
    }
}
