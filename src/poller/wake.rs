//! Waking one device's SNMP poll loop ahead of its schedule: a trap that
//! says a link went down or up asks for a poll now, so the live state turns
//! within a second of it instead of at the next deadline. The loop's own
//! schedule is not moved (the early poll is extra). A wake while a poll
//! runs is kept (one permit) and gives one more poll right after it.
use crate::topology::DeviceId;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::Notify;

/// The handle the trap receiver wakes device loops through.
#[derive(Debug, Clone, Default)]
pub struct PollWaker {
    wakes: Arc<Mutex<HashMap<DeviceId, Arc<Notify>>>>,
}

impl PollWaker {
    /// Asks `device`'s SNMP loop for a poll now; false when it has none.
    pub fn wake(&self, device: &DeviceId) -> bool {
        let wakes = self.wakes.lock().unwrap_or_else(|p| p.into_inner());
        match wakes.get(device) {
            Some(n) => {
                n.notify_one();
                true
            }
            None => false,
        }
    }

    /// The signal `device`'s loop waits on beside its deadline.
    pub(super) fn register(&self, device: &DeviceId) -> Arc<Notify> {
        let mut wakes = self.wakes.lock().unwrap_or_else(|p| p.into_inner());
        wakes.entry(device.clone()).or_default().clone()
    }
}
