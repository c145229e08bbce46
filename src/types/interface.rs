//! An interface's IF-MIB states, from the decoded SNMP integer to the JSON
//! answer: [`OperStatus`] (ifOperStatus). One text per variant, the MIB's
//! enumeration names, as discovery, the poller, topology snapshots and the
//! API have always written them. Pure data; nothing else of the crate.
use serde::{Deserialize, Serialize};

named_set! {
    /// ifOperStatus (RFC 2863). `Invalid` is not in the MIB: it stands for
    /// an integer outside 1..=7, an agent's fault kept apart from the
    /// agent's own `unknown(4)`.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize, Serialize)]
    #[serde(rename_all = "camelCase")]
    pub enum OperStatus ("interface oper status") {
        Up = "up",
        Down = "down",
        Testing = "testing",
        Unknown = "unknown",
        Dormant = "dormant",
        NotPresent = "notPresent",
        LowerLayerDown = "lowerLayerDown",
        Invalid = "invalid",
    }
}

impl OperStatus {
    /// The status an agent's ifOperStatus integer means; any value outside
    /// the MIB's 1..=7 is [`OperStatus::Invalid`].
    pub fn from_mib(value: i64) -> OperStatus {
        match value {
            1 => OperStatus::Up,
            2 => OperStatus::Down,
            3 => OperStatus::Testing,
            4 => OperStatus::Unknown,
            5 => OperStatus::Dormant,
            6 => OperStatus::NotPresent,
            7 => OperStatus::LowerLayerDown,
            _ => OperStatus::Invalid,
        }
    }

    pub fn is_up(self) -> bool {
        self == OperStatus::Up
    }

    /// Down as the interface-down alert means it: `down` or
    /// `lowerLayerDown` (not testing, dormant, unknown, ...).
    pub fn is_down(self) -> bool {
        matches!(self, OperStatus::Down | OperStatus::LowerLayerDown)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_mib_value_and_text_round_trips() {
        let texts: Vec<&str> = (0..=8).map(|v| OperStatus::from_mib(v).as_str()).collect();
        assert_eq!(
            texts,
            [
                "invalid",
                "up",
                "down",
                "testing",
                "unknown",
                "dormant",
                "notPresent",
                "lowerLayerDown",
                "invalid"
            ]
        );
        assert_eq!(OperStatus::from_mib(-1), OperStatus::Invalid);
        for s in OperStatus::ALL {
            let json = serde_json::to_string(s).unwrap();
            assert_eq!(json, format!("\"{}\"", s.as_str()));
            assert_eq!(serde_json::from_str::<OperStatus>(&json).unwrap(), *s);
            assert_eq!(s.as_str().parse::<OperStatus>().unwrap(), *s);
        }
    }

    #[test]
    fn an_unknown_text_is_an_error_naming_it() {
        let e = serde_json::from_str::<OperStatus>("\"Up\"").unwrap_err();
        assert!(e.to_string().contains("Up"), "{e}");
        let e = "sideways".parse::<OperStatus>().unwrap_err();
        assert!(e.to_string().contains("sideways"), "{e}");
    }
}
