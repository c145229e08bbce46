//! placeholder: owned by the snmp work; replaced when it lands.
