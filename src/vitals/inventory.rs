//! A device's hardware inventory from ENTITY-MIB's entPhysicalTable: the
//! chassis (model, serial, hardware, firmware and software revisions, the
//! maker) and every part worth listing (modules, power supplies, fans,
//! stack members, drives and any entity with a serial number). Pure: the
//! walked rows in, typed values out. Ports, sensors, containers and
//! backplanes without a serial are counted, not listed; a row with no
//! class is kept in `unusable` with its reason.
use crate::snmp::table::{Rows, int, text};
use serde::Serialize;

/// entPhysicalClass (ENTITY-MIB's PhysicalClass).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EntityClass {
    Other,
    Unknown,
    Chassis,
    Backplane,
    Container,
    PowerSupply,
    Fan,
    Sensor,
    Module,
    Port,
    Stack,
    Cpu,
    EnergyObject,
    Battery,
    StorageDrive,
}

impl EntityClass {
    fn from_code(code: i64) -> Option<EntityClass> {
        use EntityClass::*;
        Some(match code {
            1 => Other,
            2 => Unknown,
            3 => Chassis,
            4 => Backplane,
            5 => Container,
            6 => PowerSupply,
            7 => Fan,
            8 => Sensor,
            9 => Module,
            10 => Port,
            11 => Stack,
            12 => Cpu,
            13 => EnergyObject,
            14 => Battery,
            15 => StorageDrive,
            _ => return None,
        })
    }

    /// Classes listed as parts whether or not they carry a serial.
    fn is_part(self) -> bool {
        use EntityClass::*;
        matches!(
            self,
            Chassis | PowerSupply | Fan | Module | Stack | Cpu | Battery | StorageDrive
        )
    }
}

/// One physical entity worth listing.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PhysicalEntity {
    pub index: u32,
    pub class: EntityClass,
    pub name: Option<String>,
    pub descr: Option<String>,
    pub model: Option<String>,
    pub serial: Option<String>,
    pub hardware_rev: Option<String>,
    pub firmware_rev: Option<String>,
    pub software_rev: Option<String>,
    pub maker: Option<String>,
    /// entPhysicalIsFRU: can it be replaced in the field.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replaceable: Option<bool>,
    /// entPhysicalContainedIn: 0 for a top-level entity.
    pub contained_in: u32,
}

/// The inventory of one device.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Inventory {
    /// The top-level chassis (the first one contained in nothing; else the
    /// first chassis; else the first top-level entity with a model or a
    /// serial), as listed in `parts`.
    pub chassis: Option<PhysicalEntity>,
    pub parts: Vec<PhysicalEntity>,
    /// Rows of entPhysicalTable, listed or not.
    pub entities: usize,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unusable: Vec<String>,
}

/// A text column: trimmed of spaces and NULs (agents pad fixed-width
/// fields), `None` when nothing is left.
fn field(v: Option<&async_snmp::Value>) -> Option<String> {
    text(v)
        .map(|s| {
            s.trim_matches(|c: char| c.is_whitespace() || c == '\0')
                .to_string()
        })
        .filter(|s| !s.is_empty())
}

impl Inventory {
    /// From the rows of entPhysicalEntry (every column walked).
    pub fn from_rows(table: &Rows) -> Inventory {
        let mut inv = Inventory {
            entities: table.len(),
            ..Inventory::default()
        };
        for (index, row) in table {
            let [index] = index.as_slice() else {
                inv.unusable.push(format!(
                    "entPhysicalTable row {index:?}: not a single index"
                ));
                continue;
            };
            let Some(class) = int(row.get(&5)).and_then(EntityClass::from_code) else {
                inv.unusable.push(format!(
                    "entPhysicalTable row {index}: no entPhysicalClass or one out of range"
                ));
                continue;
            };
            let e = PhysicalEntity {
                index: *index,
                class,
                name: field(row.get(&7)),
                descr: field(row.get(&2)),
                model: field(row.get(&13)),
                serial: field(row.get(&11)),
                hardware_rev: field(row.get(&8)),
                firmware_rev: field(row.get(&9)),
                software_rev: field(row.get(&10)),
                maker: field(row.get(&12)),
                replaceable: match int(row.get(&16)) {
                    Some(1) => Some(true),
                    Some(2) => Some(false),
                    _ => None,
                },
                contained_in: int(row.get(&4))
                    .and_then(|c| u32::try_from(c).ok())
                    .unwrap_or(0),
            };
            if class.is_part() || e.serial.is_some() {
                inv.parts.push(e);
            }
        }
        inv.chassis = Self::pick_chassis(&inv.parts);
        inv
    }

    fn pick_chassis(parts: &[PhysicalEntity]) -> Option<PhysicalEntity> {
        let chassis = |e: &&PhysicalEntity| e.class == EntityClass::Chassis;
        let top = |e: &&PhysicalEntity| e.contained_in == 0;
        let described = |e: &&PhysicalEntity| e.model.is_some() || e.serial.is_some();
        parts
            .iter()
            .find(|e| chassis(e) && top(e))
            .or_else(|| parts.iter().find(chassis))
            .or_else(|| parts.iter().find(|e| top(e) && described(e)))
            .cloned()
    }

    /// The chassis' firmware: its firmware revision, else its software
    /// revision (many agents fill only one of the two).
    pub fn firmware(&self) -> Option<&str> {
        let c = self.chassis.as_ref()?;
        c.firmware_rev.as_deref().or(c.software_rev.as_deref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snmp::table::rows;
    use crate::vitals::ENT_PHYSICAL_ENTRY;
    use async_snmp::{Oid, Value, VarBind};

    fn col(c: u32, index: u32, value: Value) -> VarBind {
        let mut arcs = ENT_PHYSICAL_ENTRY.to_vec();
        arcs.extend([c, index]);
        VarBind::new(Oid::from_slice(&arcs), value)
    }
    fn s(v: &str) -> Value {
        Value::OctetString(v.as_bytes().to_vec().into())
    }

    #[test]
    fn the_top_chassis_its_parts_and_what_is_only_counted() {
        let vbs = vec![
            col(2, 1, s("Stack")),
            col(5, 1, Value::Integer(11)),
            col(4, 1, Value::Integer(0)),
            col(2, 1001, s("48-port switch")),
            col(5, 1001, Value::Integer(3)),
            col(4, 1001, Value::Integer(1)),
            col(13, 1001, s("WS-C3850-48P  ")),
            col(11, 1001, s("FOC1234X0AB\0\0")),
            col(8, 1001, s("V05")),
            col(10, 1001, s("16.12.4")),
            col(16, 1001, Value::Integer(2)),
            col(5, 1002, Value::Integer(6)),
            col(7, 1002, s("PSU 1")),
            col(16, 1002, Value::Integer(1)),
            col(5, 1100, Value::Integer(10)),
            col(7, 1100, s("Gi1/0/1")),
            col(5, 1200, Value::Integer(10)),
            col(11, 1200, s("SFP-SERIAL-9")),
            col(7, 1300, s("no class")),
        ];
        let inv = Inventory::from_rows(&rows(ENT_PHYSICAL_ENTRY, &vbs));
        assert_eq!(inv.entities, 6);
        let c = inv.chassis.as_ref().unwrap();
        // The stack is top-level but is not a chassis: the chassis inside it is.
        assert_eq!(c.index, 1001);
        assert_eq!(c.model.as_deref(), Some("WS-C3850-48P"));
        assert_eq!(c.serial.as_deref(), Some("FOC1234X0AB"));
        assert_eq!(c.hardware_rev.as_deref(), Some("V05"));
        assert_eq!(c.replaceable, Some(false));
        assert_eq!(inv.firmware(), Some("16.12.4"));
        let listed: Vec<u32> = inv.parts.iter().map(|p| p.index).collect();
        // The plain port is counted only; the port with a serial (a
        // transceiver) is listed.
        assert_eq!(listed, [1, 1001, 1002, 1200]);
        assert_eq!(inv.unusable.len(), 1);
        assert!(inv.unusable[0].contains("1300"), "{:?}", inv.unusable);
    }

    #[test]
    fn nothing_walked_is_an_empty_inventory() {
        let inv = Inventory::from_rows(&rows(ENT_PHYSICAL_ENTRY, &[]));
        assert_eq!(inv, Inventory::default());
        assert_eq!(inv.firmware(), None);
    }
}
