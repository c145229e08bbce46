//! The live map page: `/`, `/wall` and the files under `web/`, embedded in
//! the binary at build time. A fixed table maps each URL path to its bytes
//! and content type; nothing is read from the file system, so no request can
//! reach a file outside the table. The page holds no data (it reads the API
//! with the user's token), so these routes need no token; they still pass
//! through the security headers (CSP) like every other response.
use warp::filters::BoxedFilter;
use warp::http::StatusCode;
use warp::http::header::{CONTENT_TYPE, HeaderValue};
use warp::reply::Response;
use warp::{Filter, Reply};

/// One embedded file.
#[derive(Debug, Clone, Copy)]
pub struct Asset {
    pub path: &'static str,
    pub content_type: &'static str,
    pub body: &'static [u8],
}

const HTML: &str = "text/html; charset=utf-8";
const JS: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";
const TEXT: &str = "text/plain; charset=utf-8";

macro_rules! asset {
    ($url:literal, $file:literal, $ct:expr) => {
        Asset {
            path: $url,
            content_type: $ct,
            body: include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/web/", $file)),
        }
    };
}

/// Every file the page may load, by URL path.
pub const ASSETS: &[Asset] = &[
    asset!("/", "index.html", HTML),
    asset!("/wall", "index.html", HTML),
    asset!("/css/map.css", "css/map.css", CSS),
    asset!("/js/app.js", "js/app.js", JS),
    asset!("/js/api.js", "js/api.js", JS),
    asset!("/js/dom.js", "js/dom.js", JS),
    asset!("/js/elements.js", "js/elements.js", JS),
    asset!("/js/export.js", "js/export.js", JS),
    asset!("/js/feed.js", "js/feed.js", JS),
    asset!("/js/early_stream.js", "js/early_stream.js", JS),
    asset!("/js/filters.js", "js/filters.js", JS),
    asset!("/js/layout.js", "js/layout.js", JS),
    asset!("/js/layout_fan.js", "js/layout_fan.js", JS),
    asset!("/js/layout_family.js", "js/layout_family.js", JS),
    asset!("/js/labels.js", "js/labels.js", JS),
    asset!("/js/side.js", "js/side.js", JS),
    asset!("/js/stubs.js", "js/stubs.js", JS),
    asset!("/js/sites.js", "js/sites.js", JS),
    asset!("/js/changes.js", "js/changes.js", JS),
    asset!("/js/positions.js", "js/positions.js", JS),
    asset!("/js/model.js", "js/model.js", JS),
    asset!("/js/controls.js", "js/controls.js", JS),
    asset!("/js/style.js", "js/style.js", JS),
    asset!("/js/panels.js", "js/panels.js", JS),
    asset!("/js/device_events.js", "js/device_events.js", JS),
    asset!("/js/device_path.js", "js/device_path.js", JS),
    asset!("/js/charts.js", "js/charts.js", JS),
    asset!("/js/discovery.js", "js/discovery.js", JS),
    asset!("/vendor/cytoscape.min.js", "vendor/cytoscape.min.js", JS),
    asset!(
        "/vendor/cytoscape.LICENSE",
        "vendor/cytoscape.LICENSE",
        TEXT
    ),
];

/// The embedded file at `path`, if any.
pub fn lookup(path: &str) -> Option<&'static Asset> {
    ASSETS.iter().find(|a| a.path == path)
}

/// GET (and HEAD) of any path in [`ASSETS`]; other paths are rejected with
/// "not found" so the API routes and the 404 handler see them. `on_page`
/// runs whenever the page itself (an HTML asset) is sent: the server
/// starts on what the page will ask for next.
pub fn routes(on_page: std::sync::Arc<dyn Fn() + Send + Sync>) -> BoxedFilter<(Response,)> {
    warp::get()
        .or(warp::head())
        .unify()
        .and(warp::path::full())
        .and_then(move |full: warp::path::FullPath| {
            let on_page = on_page.clone();
            async move {
                match lookup(full.as_str()) {
                    Some(a) => {
                        if a.content_type == HTML {
                            on_page();
                        }
                        Ok(reply(a))
                    }
                    None => Err(warp::reject::not_found()),
                }
            }
        })
        .boxed()
}

fn reply(a: &Asset) -> Response {
    let mut r = warp::reply::with_status(a.body, StatusCode::OK).into_response();
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(a.content_type));
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_complete_and_unique() {
        let mut paths: Vec<&str> = ASSETS.iter().map(|a| a.path).collect();
        paths.sort_unstable();
        paths.dedup();
        assert_eq!(paths.len(), ASSETS.len(), "duplicate path");
        assert!(ASSETS.iter().all(|a| !a.body.is_empty()));
        assert!(lookup("/../Cargo.toml").is_none());
        assert!(lookup("/js/../../src/main.rs").is_none());
        assert!(lookup("/vendor/").is_none());
    }

    /// Every module but app.js is preloaded by index.html: the browser
    /// fetches them at once instead of one level of imports after another.
    #[test]
    fn every_module_is_preloaded() {
        let html = std::str::from_utf8(lookup("/").unwrap().body).unwrap();
        for a in ASSETS
            .iter()
            .filter(|a| a.path.starts_with("/js/") && a.path != "/js/app.js")
        {
            let link = format!("<link rel=\"modulepreload\" href=\"{}\">", a.path);
            assert!(html.contains(&link), "{} not preloaded", a.path);
        }
    }

    /// The page's own code builds DOM only through `el()` in dom.js: no
    /// HTML parsing sinks, no inline handlers, nothing from elsewhere.
    #[test]
    fn page_code_has_no_html_sinks() {
        for a in ASSETS.iter().filter(|a| a.path.starts_with("/js/")) {
            let text = std::str::from_utf8(a.body).expect("utf-8");
            for sink in [
                "innerHTML",
                "outerHTML",
                "insertAdjacentHTML",
                "document.write",
                "eval(",
                "new Function",
                "DOMParser",
                "createContextualFragment",
            ] {
                assert!(!text.contains(sink), "{} contains {sink}", a.path);
            }
        }
        let html = std::str::from_utf8(lookup("/").unwrap().body).unwrap();
        assert!(!html.contains(" style="), "inline style in index.html");
        let handler = html.split(" on").skip(1).any(|rest| {
            let name: String = rest.chars().take_while(char::is_ascii_alphabetic).collect();
            !name.is_empty() && rest[name.len()..].starts_with('=')
        });
        assert!(!handler, "inline handler in index.html");
        assert!(!html.contains("src=\"http") && !html.contains("href=\"http"));
        assert!(!html.contains("<script>"), "inline script in index.html");
    }
}
