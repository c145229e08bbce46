//! Which sites' pollers the central hears, pure: a site is silent once
//! three of its heartbeat periods passed without one, told once per
//! silence, and back at its next heartbeat. A heartbeat replayed from the
//! stream (its own time older than that window, e.g. after the central's
//! restart) says nothing about the site now. A site the central expects
//! (configured, or known from the stream) but has not heard since it
//! started is told silent once a window has passed since it was expected,
//! so a site already cut off when the central starts raises its alert
//! too. Times are wall milliseconds passed in by the caller.
use std::collections::BTreeMap;

/// Heartbeat periods without one before a site is silent.
const MISSED_BEATS: i64 = 3;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SiteEvent {
    /// The first heartbeat of a site since the central started.
    Heard { site: String },
    /// A heartbeat after a silence.
    Back { site: String },
    /// No heartbeat for three periods since `last_ms`: the site's devices
    /// are stale (not down) until it is back.
    Silent { site: String, last_ms: i64 },
}

#[derive(Debug, Clone)]
struct Seen {
    /// The silence is counted from here: the last heartbeat, or when the
    /// site was expected.
    last_ms: i64,
    /// When the site was last heard (the silence's start as told).
    heard_ms: i64,
    window_ms: i64,
    silent: bool,
    /// Heard live since the central started.
    heard: bool,
}

/// How long a site with heartbeats every `every_ms` may stay quiet.
pub fn window_ms(every_ms: i64) -> i64 {
    MISSED_BEATS * every_ms.max(1_000)
}

#[derive(Debug, Clone, Default)]
pub struct SiteWatch {
    sites: BTreeMap<String, Seen>,
}

impl SiteWatch {
    /// A heartbeat of `site` sent at `at_ms` every `every_ms`, received at `now_ms`.
    pub fn heard(
        &mut self,
        site: &str,
        at_ms: i64,
        every_ms: i64,
        now_ms: i64,
    ) -> Option<SiteEvent> {
        let window_ms = window_ms(every_ms);
        if now_ms - at_ms > window_ms {
            return None;
        }
        let site_owned = site.to_string();
        match self.sites.get_mut(site) {
            None => {
                self.sites.insert(
                    site_owned.clone(),
                    Seen {
                        last_ms: now_ms,
                        heard_ms: now_ms,
                        window_ms,
                        silent: false,
                        heard: true,
                    },
                );
                Some(SiteEvent::Heard { site: site_owned })
            }
            Some(seen) => {
                seen.last_ms = seen.last_ms.max(now_ms);
                seen.heard_ms = seen.last_ms;
                seen.window_ms = window_ms;
                let first = !std::mem::replace(&mut seen.heard, true);
                if std::mem::take(&mut seen.silent) {
                    Some(SiteEvent::Back { site: site_owned })
                } else {
                    first.then_some(SiteEvent::Heard { site: site_owned })
                }
            }
        }
    }

    /// A site the central expects at `now_ms`, last heard at `heard_ms` if
    /// known (its last heartbeat in the stream), silent unless heard within
    /// `window_ms`. Nothing changes for a site already known.
    pub fn expect(&mut self, site: &str, heard_ms: Option<i64>, window_ms: i64, now_ms: i64) {
        self.sites.entry(site.to_string()).or_insert(Seen {
            last_ms: now_ms,
            heard_ms: heard_ms.unwrap_or(now_ms),
            window_ms,
            silent: false,
            heard: false,
        });
    }

    /// The sites that just went silent.
    pub fn tick(&mut self, now_ms: i64) -> Vec<SiteEvent> {
        let mut out = Vec::new();
        for (site, seen) in &mut self.sites {
            if !seen.silent && now_ms - seen.last_ms > seen.window_ms {
                seen.silent = true;
                out.push(SiteEvent::Silent {
                    site: site.clone(),
                    last_ms: seen.heard_ms,
                });
            }
        }
        out
    }

    /// When `site` was last heard and how long that stands (its window),
    /// while it is not silent; `None` for a silent or never-heard site.
    pub fn heard_at(&self, site: &str) -> Option<(i64, i64)> {
        self.sites
            .get(site)
            .filter(|s| !s.silent && s.heard)
            .map(|s| (s.last_ms, s.window_ms))
    }

    /// Sites heard at least once and silent now.
    pub fn silent(&self) -> impl Iterator<Item = &str> {
        self.sites
            .iter()
            .filter(|(_, s)| s.silent)
            .map(|(n, _)| n.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_silence_is_told_once_and_the_return_once() {
        let mut w = SiteWatch::default();
        assert_eq!(
            w.heard("b1", 0, 1_000, 10),
            Some(SiteEvent::Heard { site: "b1".into() })
        );
        assert_eq!(w.heard("b1", 1_000, 1_000, 1_010), None);
        assert_eq!(w.heard_at("b1"), Some((1_010, 3_000)));
        assert_eq!(w.heard_at("b2"), None);
        assert!(w.tick(3_900).is_empty());
        assert_eq!(
            w.tick(4_100),
            vec![SiteEvent::Silent {
                site: "b1".into(),
                last_ms: 1_010
            }]
        );
        assert!(w.tick(60_000).is_empty(), "told once per silence");
        assert_eq!(w.silent().collect::<Vec<_>>(), vec!["b1"]);
        assert_eq!(w.heard_at("b1"), None, "silent: no verdict stands");
        assert_eq!(
            w.heard("b1", 61_000, 1_000, 61_005),
            Some(SiteEvent::Back { site: "b1".into() })
        );
        assert_eq!(w.silent().count(), 0);
    }

    #[test]
    fn an_expected_site_never_heard_is_told_silent_once_then_back() {
        let mut w = SiteWatch::default();
        // Expected at the central's start (10 s), its last heartbeat in the
        // stream from 2 s.
        w.expect("b1", Some(2_000), 3_000, 10_000);
        w.expect("cfg", None, 3_000, 10_000);
        assert_eq!(w.heard_at("b1"), None, "not heard live yet");
        assert!(w.tick(12_000).is_empty());
        assert_eq!(
            w.tick(13_500),
            vec![
                SiteEvent::Silent {
                    site: "b1".into(),
                    last_ms: 2_000
                },
                SiteEvent::Silent {
                    site: "cfg".into(),
                    last_ms: 10_000
                }
            ]
        );
        assert!(w.tick(60_000).is_empty());
        assert_eq!(
            w.heard("b1", 61_000, 1_000, 61_000),
            Some(SiteEvent::Back { site: "b1".into() })
        );
        // Heard before its window ran out: heard, never silent.
        let mut w = SiteWatch::default();
        w.expect("b2", None, 3_000, 0);
        assert_eq!(
            w.heard("b2", 1_000, 1_000, 1_000),
            Some(SiteEvent::Heard { site: "b2".into() })
        );
        assert_eq!(w.heard("b2", 2_000, 1_000, 2_000), None);
        assert!(w.tick(4_500).is_empty());
        // Expecting a known site changes nothing.
        w.expect("b2", None, 3_000, 4_500);
        assert_eq!(w.heard_at("b2"), Some((2_000, 3_000)));
    }

    #[test]
    fn replayed_heartbeats_say_nothing() {
        let mut w = SiteWatch::default();
        // A central starting late reads a week of stored heartbeats.
        assert_eq!(w.heard("old", 0, 5_000, 600_000), None);
        assert!(w.tick(600_000).is_empty());
        assert_eq!(w.silent().count(), 0);
    }
}
