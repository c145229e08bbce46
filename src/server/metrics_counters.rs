//! The interface counters as Prometheus counters (`_total`): the raw values
//! of the last poll as the agent gave them (ifHCInOctets or ifInOctets,
//! the packet, error and discard counters), so PromQL's `rate()` and
//! `increase()` work on them. They do not go through nocmap's own rate
//! arithmetic; a Counter32 wrap or an agent restart reads as a counter
//! reset, which `rate()` handles. Pure, like the rest of `metrics`.
use super::metrics::{Family, MetricKind, MetricSample, family};
use crate::counters::{Counter, Counters};
use crate::live::LiveView;

type CounterGetter = fn(&Counters) -> Option<f64>;

fn value(c: Option<Counter>) -> Option<f64> {
    c.map(|c| match c {
        Counter::C32(v) => f64::from(v),
        Counter::C64(v) => v as f64,
    })
}

/// The sum of the packet counters the agent gave (none: absent).
fn packets(parts: [Option<Counter>; 3]) -> Option<f64> {
    let given: Vec<f64> = parts.into_iter().filter_map(value).collect();
    (!given.is_empty()).then(|| given.iter().sum())
}

/// The counter families, labelled like the interface gauges.
pub(super) fn interface_counter_families(s: &LiveView<'_>, out: &mut Vec<Family>) {
    let names = super::metrics::sys_names(s);
    let specs: [(&'static str, &'static str, CounterGetter); 8] = [
        (
            "nocmap_interface_in_bytes_total",
            "Octets received on the interface (ifHCInOctets, else ifInOctets), as the agent counts them.",
            |c| value(c.in_octets),
        ),
        (
            "nocmap_interface_out_bytes_total",
            "Octets sent on the interface (ifHCOutOctets, else ifOutOctets), as the agent counts them.",
            |c| value(c.out_octets),
        ),
        (
            "nocmap_interface_in_packets_total",
            "Packets received: unicast, multicast and broadcast counters added.",
            |c| packets([c.in_ucast_pkts, c.in_mcast_pkts, c.in_bcast_pkts]),
        ),
        (
            "nocmap_interface_out_packets_total",
            "Packets sent: unicast, multicast and broadcast counters added.",
            |c| packets([c.out_ucast_pkts, c.out_mcast_pkts, c.out_bcast_pkts]),
        ),
        (
            "nocmap_interface_in_errors_total",
            "Inbound packets with errors (ifInErrors).",
            |c| value(c.in_errors),
        ),
        (
            "nocmap_interface_out_errors_total",
            "Outbound packets not sent because of errors (ifOutErrors).",
            |c| value(c.out_errors),
        ),
        (
            "nocmap_interface_in_discards_total",
            "Inbound packets discarded (ifInDiscards).",
            |c| value(c.in_discards),
        ),
        (
            "nocmap_interface_out_discards_total",
            "Outbound packets discarded (ifOutDiscards).",
            |c| value(c.out_discards),
        ),
    ];
    for (name, help, get) in specs {
        let mut f = family(name, help, MetricKind::Counter);
        for ((device, if_name), h) in s.interfaces {
            if let Some(v) = h.counters.as_ref().and_then(get) {
                f.samples.push(MetricSample::plain(
                    vec![
                        ("device", device.0.clone()),
                        ("sys_name", names.get(device).unwrap_or(&"").to_string()),
                        ("if_name", if_name.clone()),
                    ],
                    v,
                ));
            }
        }
        out.push(f);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packets_add_what_the_agent_gave() {
        assert_eq!(packets([None, None, None]), None);
        assert_eq!(
            packets([Some(Counter::C64(10)), None, Some(Counter::C32(5))]),
            Some(15.0)
        );
        assert_eq!(value(Some(Counter::C64(u64::MAX))), Some(u64::MAX as f64));
    }
}
