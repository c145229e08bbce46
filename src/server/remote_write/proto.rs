//! The Prometheus remote-write 1.0 wire format: the `WriteRequest` protobuf
//! messages (field numbers from prometheus/prompb `remote.proto` and
//! `types.proto`), metric families turned into time series, and the
//! snappy (block format) body. Pure: the caller passes the timestamp.
use crate::server::metrics::Family;
use crate::types::UnixMillis;

#[derive(Clone, PartialEq, prost::Message)]
pub struct WriteRequest {
    #[prost(message, repeated, tag = "1")]
    pub timeseries: Vec<TimeSeries>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct TimeSeries {
    /// Sorted by name; `__name__` is first.
    #[prost(message, repeated, tag = "1")]
    pub labels: Vec<Label>,
    #[prost(message, repeated, tag = "2")]
    pub samples: Vec<Sample>,
}

#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct Label {
    #[prost(string, tag = "1")]
    pub name: String,
    #[prost(string, tag = "2")]
    pub value: String,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct Sample {
    #[prost(double, tag = "1")]
    pub value: f64,
    /// Milliseconds since the Unix epoch.
    #[prost(int64, tag = "2")]
    pub timestamp: i64,
}

/// One time series per sample of `families`, each with `extra` labels
/// added, labels sorted by name, one sample at `at_ms`. Non-finite values
/// and empty label values (which Prometheus treats as absent) are left out.
pub fn write_request(
    families: &[Family],
    extra: &[(String, String)],
    at_ms: UnixMillis,
) -> WriteRequest {
    let mut timeseries = Vec::new();
    for f in families {
        for s in f.samples.iter().filter(|s| s.value.is_finite()) {
            let mut labels = vec![Label {
                name: "__name__".to_string(),
                value: format!("{}{}", f.name, s.suffix),
            }];
            labels.extend(
                s.labels
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.clone()))
                    .chain(extra.iter().cloned())
                    .filter(|(_, v)| !v.is_empty())
                    .map(|(name, value)| Label { name, value }),
            );
            labels.sort_by(|a, b| a.name.cmp(&b.name));
            labels.dedup_by(|later, first| later.name == first.name);
            timeseries.push(TimeSeries {
                labels,
                samples: vec![Sample {
                    value: s.value,
                    timestamp: at_ms.0,
                }],
            });
        }
    }
    WriteRequest { timeseries }
}

/// The HTTP body: the protobuf encoding, snappy-compressed (block format,
/// not framed).
pub fn body(req: &WriteRequest) -> Vec<u8> {
    let raw = prost::Message::encode_to_vec(req);
    // Compressing a slice of known length into a Vec cannot fail except on
    // inputs over 2^32 - 1 bytes, far beyond any request built here.
    snap::raw::Encoder::new()
        .compress_vec(&raw)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::metrics::{MetricKind, MetricSample};
    use prost::Message;

    #[test]
    fn field_numbers_match_remote_proto() {
        // Label{name:"a", value:"b"} = field 1 "a", field 2 "b".
        let l = Label {
            name: "a".into(),
            value: "b".into(),
        };
        assert_eq!(l.encode_to_vec(), [0x0a, 1, b'a', 0x12, 1, b'b']);
        // Sample{value: 1.0, timestamp: 2}: field 1 fixed64, field 2 varint.
        let s = Sample {
            value: 1.0,
            timestamp: 2,
        };
        assert_eq!(
            s.encode_to_vec(),
            [0x09, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f, 0x10, 2]
        );
    }

    #[test]
    fn labels_sorted_name_first_extra_added_and_body_roundtrips() {
        let f = Family {
            name: "m",
            help: "",
            kind: MetricKind::Summary,
            samples: vec![
                MetricSample {
                    suffix: "_sum",
                    labels: vec![("sys_name", "x\"}".into()), ("device", "d".into())],
                    value: 2.5,
                },
                MetricSample {
                    suffix: "_count",
                    labels: vec![("device", "".into())],
                    value: f64::INFINITY,
                },
            ],
        };
        let req = write_request(&[f], &[("site".into(), "lab".into())], UnixMillis(77));
        assert_eq!(req.timeseries.len(), 1);
        let names: Vec<(&str, &str)> = req.timeseries[0]
            .labels
            .iter()
            .map(|l| (l.name.as_str(), l.value.as_str()))
            .collect();
        assert_eq!(
            names,
            [
                ("__name__", "m_sum"),
                ("device", "d"),
                ("site", "lab"),
                ("sys_name", "x\"}")
            ]
        );
        let raw = snap::raw::Decoder::new()
            .decompress_vec(&body(&req))
            .unwrap();
        assert_eq!(WriteRequest::decode(raw.as_slice()).unwrap(), req);
    }
}
