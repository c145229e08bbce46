//! Numeric OIDs of the tables discovery reads (see `mibs/` for the modules
//! these come from). Plain constants: no lookup at run time.

pub const SYSTEM: &[u32] = &[1, 3, 6, 1, 2, 1, 1];
pub const SNMP_ENGINE_ID: &[u32] = &[1, 3, 6, 1, 6, 3, 10, 2, 1, 1, 0];

pub const IF_ENTRY: &[u32] = &[1, 3, 6, 1, 2, 1, 2, 2, 1];
pub const IFX_ENTRY: &[u32] = &[1, 3, 6, 1, 2, 1, 31, 1, 1, 1];
/// ifStackStatus: indexed by (higher layer ifIndex, lower layer ifIndex).
pub const IF_STACK_STATUS: &[u32] = &[1, 3, 6, 1, 2, 1, 31, 1, 2, 1, 3];

pub const IP_ADDRESS_ENTRY: &[u32] = &[1, 3, 6, 1, 2, 1, 4, 34, 1];
pub const IP_ADDR_ENTRY: &[u32] = &[1, 3, 6, 1, 2, 1, 4, 20, 1];
pub const IP_NET_TO_PHYSICAL_ENTRY: &[u32] = &[1, 3, 6, 1, 2, 1, 4, 35, 1];
pub const IP_NET_TO_MEDIA_ENTRY: &[u32] = &[1, 3, 6, 1, 2, 1, 4, 22, 1];

pub const LLDP_LOC: &[u32] = &[1, 0, 8802, 1, 1, 2, 1, 3];
pub const LLDP_LOC_PORT_ENTRY: &[u32] = &[1, 0, 8802, 1, 1, 2, 1, 3, 7, 1];
pub const LLDP_REM_ENTRY: &[u32] = &[1, 0, 8802, 1, 1, 2, 1, 4, 1, 1];
pub const LLDP_REM_MAN_ADDR_ENTRY: &[u32] = &[1, 0, 8802, 1, 1, 2, 1, 4, 2, 1];

pub const CDP_CACHE_ENTRY: &[u32] = &[1, 3, 6, 1, 4, 1, 9, 9, 23, 1, 2, 1, 1];

pub const DOT1D_BASE_PORT_IF_INDEX: &[u32] = &[1, 3, 6, 1, 2, 1, 17, 1, 4, 1, 2];
pub const DOT1D_TP_FDB_ENTRY: &[u32] = &[1, 3, 6, 1, 2, 1, 17, 4, 3, 1];
pub const DOT1Q_TP_FDB_ENTRY: &[u32] = &[1, 3, 6, 1, 2, 1, 17, 7, 1, 2, 2, 1];
/// dot1qVlanCurrentEntry: index (dot1qVlanTimeMark, dot1qVlanIndex);
/// columns 4 (EgressPorts) and 5 (UntaggedPorts), PortLists.
pub const DOT1Q_VLAN_CURRENT_ENTRY: &[u32] = &[1, 3, 6, 1, 2, 1, 17, 7, 1, 4, 2, 1];
/// dot1qVlanStaticEntry: index dot1qVlanIndex; columns 2 (EgressPorts) and
/// 4 (UntaggedPorts), PortLists.
pub const DOT1Q_VLAN_STATIC_ENTRY: &[u32] = &[1, 3, 6, 1, 2, 1, 17, 7, 1, 4, 3, 1];
