//! The walks behind a device's vitals: six subtrees (UCD's memory and
//! systemStats among them) through the agent's session (the whole
//! entPhysicalTable when the inventory is asked for). A subtree the agent
//! does not have is simply empty; an error only when the agent does not
//! answer at all.
use super::ucd::{UCD_MEMORY, UCD_SYSTEM_STATS};
use super::{ENT_PHY_SENSOR_ENTRY, ENT_PHYSICAL_ENTRY, HR_PROCESSOR_ENTRY, HR_STORAGE_ENTRY};
use super::{Vitals, Walked};
use crate::snmp::{AgentSession, Oid, SnmpError};

/// entPhysicalName and entPhysicalDescr only: the rest of the entity table
/// (up to thousands of rows on a chassis) is not needed for sensor names.
const ENT_PHYSICAL_NAME: &[u32] = &[1, 3, 6, 1, 2, 1, 47, 1, 1, 1, 1, 7];
const ENT_PHYSICAL_DESCR: &[u32] = &[1, 3, 6, 1, 2, 1, 47, 1, 1, 1, 1, 2];

/// One reading; `inventory` also walks every column of entPhysicalTable.
pub async fn read(session: &dyn AgentSession, inventory: bool) -> Result<Vitals, SnmpError> {
    let walk = |root: &'static [u32]| async move {
        session
            .walk(&Oid::from_slice(root))
            .await
            .map(|r| r.varbinds.clone())
    };
    let processor_load = walk(HR_PROCESSOR_ENTRY).await?;
    let storage = walk(HR_STORAGE_ENTRY).await?;
    let sensors = walk(ENT_PHY_SENSOR_ENTRY).await?;
    let mut ucd = walk(UCD_MEMORY).await?;
    ucd.extend(walk(UCD_SYSTEM_STATS).await?);
    let mut physical = Vec::new();
    if inventory {
        physical = walk(ENT_PHYSICAL_ENTRY).await?;
    } else if !sensors.is_empty() {
        physical = walk(ENT_PHYSICAL_NAME).await?;
        physical.extend(walk(ENT_PHYSICAL_DESCR).await?);
    }
    Ok(Vitals::from_walks(&Walked {
        processor_load,
        storage,
        sensors,
        physical,
        ucd,
        inventory,
    }))
}
