//! Walk bookkeeping, free of I/O: how each returned varbind moves a walk on,
//! and how a walk ends (complete, or partial with its reason). The loop that
//! sends requests lives in `engine.rs` and asks [`classify_step`] what to do.
use async_snmp::{Oid, Value, VarBind};

/// What one varbind of a GETNEXT/GETBULK response means for the walk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WalkStep {
    /// Inside the subtree and after the previous OID: keep it.
    Accept,
    /// The end of the table: endOfMibView (or another exception value), the
    /// agent moved past the subtree, or it answered the last row's OID again.
    Done,
    /// The agent went backwards: a broken or looping agent.
    NonIncreasing,
}

/// Why a walk stopped before its natural end.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum WalkStop {
    /// The agent stopped answering partway.
    Timeout { after_varbinds: usize },
    /// The agent returned an OID not after the previous one.
    NonIncreasing { previous: String, returned: String },
    /// The agent answered with an error status we could not work around.
    AgentError { detail: String },
    /// The walk exceeded the row cap (a runaway table or a looping agent).
    TooManyVarbinds { cap: usize },
    /// The response made no progress (no varbinds at all).
    EmptyResponse,
    /// Walks in progress over every agent together held as many varbinds
    /// as the engine allows in memory at once; this walk kept `kept`.
    MemoryBudget { cap: usize, kept: usize },
}

impl std::fmt::Display for WalkStop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WalkStop::Timeout { after_varbinds } => {
                write!(f, "agent stopped answering after {after_varbinds} varbinds")
            }
            WalkStop::NonIncreasing { previous, returned } => {
                write!(
                    f,
                    "agent returned non-increasing OID {returned} after {previous}"
                )
            }
            WalkStop::AgentError { detail } => write!(f, "agent error: {detail}"),
            WalkStop::TooManyVarbinds { cap } => {
                write!(f, "more than {cap} varbinds: walk cut short")
            }
            WalkStop::EmptyResponse => write!(f, "agent sent an empty response"),
            WalkStop::MemoryBudget { cap, kept } => write!(
                f,
                "walks of all agents together hold {cap} varbinds: walk cut short after {kept} varbinds"
            ),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "end", rename_all = "snake_case")]
pub enum WalkEnd {
    Complete,
    Partial(WalkStop),
}

/// The varbinds a walk collected and how it ended. A partial walk keeps
/// everything it got before the fault.
#[derive(Debug, Clone)]
pub struct WalkResult {
    pub varbinds: Vec<VarBind>,
    pub end: WalkEnd,
    /// This walk's share of the engine's varbind budget, given back when
    /// the result (and every clone of it) is dropped.
    pub(crate) hold: Option<std::sync::Arc<WalkHold>>,
}

/// What one walk holds of the engine's varbind budget: from the shared
/// part, and from the part kept for small walks (see
/// [`crate::snmp::SnmpSettings::max_walked_varbinds_total`]).
#[derive(Debug, Default)]
pub struct WalkHold {
    pub(crate) shared: Option<tokio::sync::OwnedSemaphorePermit>,
    pub(crate) small: Option<tokio::sync::OwnedSemaphorePermit>,
}

impl WalkResult {
    pub fn is_complete(&self) -> bool {
        self.end == WalkEnd::Complete
    }
}

/// Decide what `vb` means for a walk of `root` whose last accepted OID is
/// `last` (the root itself before the first row).
///
/// The end of a table comes in three normal shapes: the next OID is outside
/// the subtree; an exception value (endOfMibView, noSuchObject,
/// noSuchInstance), whatever OID it carries (agents put the OID asked for
/// there, which is the last row); or the last row's OID answered again
/// (agents that cannot go past their last object). Only an OID before the
/// last one is a fault: the agent went backwards.
pub fn classify_step(root: &Oid, last: &Oid, vb: &VarBind) -> WalkStep {
    let exception = matches!(
        vb.value,
        Value::EndOfMibView | Value::NoSuchObject | Value::NoSuchInstance
    );
    if exception || !vb.oid.starts_with(root) || vb.oid == *root || vb.oid == *last {
        return WalkStep::Done;
    }
    if vb.oid.arcs() < last.arcs() {
        return WalkStep::NonIncreasing;
    }
    WalkStep::Accept
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vb(s: &str, v: Value) -> VarBind {
        VarBind::new(Oid::parse(s).unwrap(), v)
    }

    #[test]
    fn steps() {
        let root = Oid::parse("1.3.6.1.2.1.2").unwrap();
        let last = Oid::parse("1.3.6.1.2.1.2.2.1.1.5").unwrap();
        let step = |last: &Oid, next: &str, v: Value| classify_step(&root, last, &vb(next, v));
        assert_eq!(
            step(&last, "1.3.6.1.2.1.2.2.1.1.6", Value::Integer(6)),
            WalkStep::Accept
        );
        assert_eq!(
            step(&last, "1.3.6.1.2.1.3.1", Value::Integer(1)),
            WalkStep::Done
        );
        assert_eq!(
            step(&last, "1.3.6.1.2.1.2.2.1.1.4", Value::Integer(4)),
            WalkStep::NonIncreasing
        );
        assert_eq!(
            step(&last, "1.3.6.1.2.1.2.2.1.1.9", Value::EndOfMibView),
            WalkStep::Done
        );
        // Lexicographic, not numeric-string, order: .10 comes after .9.
        let last9 = Oid::parse("1.3.6.1.2.1.2.2.1.9").unwrap();
        assert_eq!(
            step(&last9, "1.3.6.1.2.1.2.2.1.10", Value::Integer(0)),
            WalkStep::Accept
        );
        // A prefix of the last OID is smaller, so it is a step backwards.
        assert_eq!(
            step(&last, "1.3.6.1.2.1.2.2.1", Value::Integer(0)),
            WalkStep::NonIncreasing
        );
    }

    /// The end of a table as agents answer it: past the last row, the same
    /// OID again (with its value, or with endOfMibView / noSuchInstance),
    /// is the normal end; only an OID before the last row is a fault.
    #[test]
    fn end_of_table_shapes_are_the_normal_end() {
        let root = Oid::parse("1.0.8802.1.1.2.1.4.1.1").unwrap();
        let last = Oid::parse("1.0.8802.1.1.2.1.4.1.1.9.0.3.1").unwrap();
        for value in [
            Value::OctetString(b"sw-core-2".to_vec().into()),
            Value::EndOfMibView,
            Value::NoSuchInstance,
            Value::NoSuchObject,
        ] {
            let step = classify_step(&root, &last, &vb("1.0.8802.1.1.2.1.4.1.1.9.0.3.1", value));
            assert_eq!(step, WalkStep::Done, "the last row again");
        }
        // endOfMibView carrying an OID before the last row: still the end.
        assert_eq!(
            classify_step(
                &root,
                &last,
                &vb("1.0.8802.1.1.2.1.4.1.1.4.0.3.1", Value::EndOfMibView)
            ),
            WalkStep::Done
        );
        // A row before the last one with a value: the agent went backwards.
        assert_eq!(
            classify_step(
                &root,
                &last,
                &vb("1.0.8802.1.1.2.1.4.1.1.4.0.3.1", Value::Integer(4))
            ),
            WalkStep::NonIncreasing
        );
    }
}
