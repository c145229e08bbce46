//! The live feed behind `/api/events`: once a second the topology view is
//! rendered item by item (one JSON text per device and per link), compared
//! with the previous tick, and the changed items go out as a numbered
//! `delta` to every subscriber. A new subscriber, or one that fell behind
//! the broadcast buffer, gets a `snapshot` of every item instead.
//!
//! The same frame answers `/api/topology` and `/api/devices`: the whole map
//! is rendered at most once a second however many clients ask, its text is
//! built once per frame and shared (not copied) by every answer, and the
//! live state's lock is held only for one small chunk of items at a time,
//! so the pollers' writes never wait behind a big answer. With nobody
//! subscribed the ticks stop; a request then renders a fresh frame first.
//!
//! One file per responsibility:
//! - [`frame`]: the state of the map at one tick and the one diff of the
//!   whole path, [`Frame::advance`] (pure);
//! - [`json`]: the event texts assembled from the items' texts (pure);
//! - [`items`]: the live state rendered to one JSON text per item, the
//!   read lock taken per chunk;
//! - [`ticker`]: [`Feed`] (the current frame and the channel its deltas
//!   go out on), the ticking task [`run`] and [`fresh`] for the API;
//! - [`subscriber`]: one event stream's order (snapshot, deltas, snapshot
//!   again when behind);
//! - [`sse`]: server-sent-events framing without copying the shared text.
mod frame;
mod items;
mod json;
mod sse;
mod subscriber;
mod ticker;

pub use frame::{EventKind, FeedEvent, Frame};
pub use sse::{shared_bytes, sse_chunks};
pub use subscriber::{Next, Subscriber};
pub use ticker::{Feed, TICK, fresh, run};
