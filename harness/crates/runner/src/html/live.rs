//! The live page `serve` answers on its admin port (`GET /ui`): the same timeline as the
//! reports, fed by the admin API's event stream as records arrive, with the faults in force
//! (each with a heal button) and the scenario clock. It asks only its own origin, at the paths
//! the admin API gives it (this module does not know `serve`).

use serde_json::json;

use super::page::{Page, Reach};
use super::timeline;

const SCRIPT: &str = include_str!("live.js");

/// The admin API's paths the page asks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Endpoints {
    /// The event stream, JSON Lines, live.
    pub events: &'static str,
    /// The faults in force (`GET`), one healed by `DELETE {faults}/{target}`, all by `DELETE`.
    pub faults: &'static str,
    /// The clock.
    pub clock: &'static str,
    /// `POST {by}`: advance the clock.
    pub advance: &'static str,
}

/// The live page, asking `endpoints`.
pub fn render(endpoints: Endpoints) -> String {
    let body = "<section id=\"summary\"><p id=\"status\" class=\"verdict info\" data-state=\"connecting\">… connecting to the event stream</p>\
<dl id=\"counts\" class=\"counts\"><div><dt>events</dt><dd data-count=\"events\">0</dd></div><div><dt>scenario clock</dt><dd data-count=\"clock\">—</dd></div><div><dt>clock mode</dt><dd data-count=\"mode\">—</dd></div></dl></section>\
<section id=\"faults\"><h2>Fault switchboard</h2><p id=\"fault-empty\">✓ No fault in force.</p><div class=\"scroll\"><table id=\"fault-table\" hidden><thead><tr><th scope=\"col\">target</th><th scope=\"col\">kind</th><th scope=\"col\">calls left</th><th scope=\"col\"></th></tr></thead><tbody></tbody></table></div>\
<p><button type=\"button\" id=\"heal-all\">Heal every fault</button></p></section>\
<section id=\"clock\"><h2>Clock</h2><form id=\"advance\"><label>Advance by <input name=\"by\" value=\"1h\" size=\"8\"></label> <button type=\"submit\">Advance</button></form></section>\
<section id=\"scenarios\"><h2>Timeline</h2><details class=\"scenario\" open data-index=\"0\" data-name=\"live\" data-status=\"passed\"><summary>events as they arrive</summary><div class=\"body\"><div class=\"timeline\" data-index=\"0\" data-live=\"1\"></div></div></details></section>";
    let data = json!({
        "kind": "live",
        "endpoints": {
            "events": endpoints.events,
            "faults": endpoints.faults,
            "clock": endpoints.clock,
            "advance": endpoints.advance,
        },
        "timelines": [timeline::data(&[], &[], &Default::default())],
        "catalog": timeline::catalog(),
    });
    Page {
        title: "Connector Harness — serve (live)".into(),
        body: body.into(),
        data,
        extra_script: SCRIPT,
        reach: Reach::OwnOrigin,
    }
    .render()
}
