//! The path-tracing seam: one trace as a trait the raw-socket tracer
//! implements, so the monitor's path loop runs against scripted paths in
//! tests.
use super::error::IcmpError;
use super::trace::{TraceOptions, trace};
use super::trace_state::TraceReport;
use futures::future::BoxFuture;

/// Traces paths (see [`trace`]).
pub trait Tracer: Send + Sync + 'static {
    fn trace(&self, options: TraceOptions) -> BoxFuture<'_, Result<TraceReport, IcmpError>>;
}

/// The real tracer: raw sockets, on a blocking thread.
#[derive(Debug, Clone, Copy, Default)]
pub struct RawTracer;

impl Tracer for RawTracer {
    fn trace(&self, options: TraceOptions) -> BoxFuture<'_, Result<TraceReport, IcmpError>> {
        Box::pin(async move {
            tokio::task::spawn_blocking(move || trace(&options))
                .await
                .map_err(|e| IcmpError::InvalidOptions(format!("the trace thread ended: {e}")))?
        })
    }
}
