//! `mizan inspect SNAPSHOT.json [LATER.json] --html report.html`: the model
//! inspector's page. One self-contained HTML file (inline CSS and SVG, no
//! scripts, fonts or external URLs) that shows a debug snapshot, or what
//! changed between two.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use mizan::debug::{Contribution, DebugSnapshot, ExplainedItem, NamedItem, Verdict, SNAPSHOT_FORMAT, SNAPSHOT_VERSION};

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

/// Reads a snapshot, refusing other documents and versions this tool does not know.
pub fn read_snapshot(path: &Path) -> Result<DebugSnapshot> {
    let text = crate::files::read_to_string(path)?;
    let head: serde_json::Value = serde_json::from_str(&text).map_err(|e| format!("{}: not JSON: {e}", path.display()))?;
    if head["format"] != SNAPSHOT_FORMAT {
        return Err(format!("{}: not a {SNAPSHOT_FORMAT} document", path.display()).into());
    }
    if head["version"].as_u64() != Some(u64::from(SNAPSHOT_VERSION)) {
        return Err(format!("{}: snapshot version {} (this tool reads {SNAPSHOT_VERSION})", path.display(), head["version"]).into());
    }
    Ok(serde_json::from_value(head).map_err(|e| format!("{}: {e}", path.display()))?)
}

/// Renders one snapshot, or the change from `before` to `after`, into `out`.
pub fn run(snapshots: &[std::path::PathBuf], out: &Path) -> Result<()> {
    let html = match snapshots {
        [one] => report(&read_snapshot(one)?),
        [before, after] => diff(&read_snapshot(before)?, &read_snapshot(after)?),
        _ => return Err("give one snapshot, or two to compare".into()),
    };
    crate::files::write(out, html)?;
    println!("wrote {}", out.display());
    Ok(())
}

/// The page for one snapshot.
pub fn report(s: &DebugSnapshot) -> String {
    let mut page = Page::new("Mizan model inspector", &format!("taken at {} · {}", when(s.taken_at_ms), pack_line(s)));
    page.section("glance", "At a glance", &glance(s));
    page.section("interests", "Interests", &interests(s));
    page.section("engagement", "Engagement by hour of the week (UTC)", &engagement(s));
    page.section("weights", "Ranker weights: pack defaults and on-device adjustments", &weights(s));
    page.section("recommendations", "Top recommendations, score by signal", &recommendations(&s.recommendations));
    page.section("why-not", "Named items: listed, or why not", &why_not(&s.named_items));
    if let Some(raw) = &s.raw_events {
        let rows: Vec<Vec<String>> = raw
            .events
            .iter()
            .map(|e| vec![e.seq.to_string(), e.kind.as_str().to_string(), esc(&e.item_id), when(e.timestamp_ms), esc(&e.query_tokens.join(" "))])
            .collect();
        let note = format!("<p>{} events; {} on sensitive items left out.</p>", raw.events.len(), raw.sensitive_left_out);
        page.section("raw-events", "Raw events (asked for)", &(note + &table(&["seq", "kind", "item", "time", "query"], &rows)));
    }
    page.finish()
}

/// The page comparing two snapshots of the same device.
pub fn diff(before: &DebugSnapshot, after: &DebugSnapshot) -> String {
    let subtitle = format!("from {} to {}", when(before.taken_at_ms), when(after.taken_at_ms));
    let mut page = Page::new("Mizan model inspector: what changed", &subtitle);
    page.section("list-changes", "The list", &list_changes(before, after));
    let categories = |s: &DebugSnapshot| s.interests.categories.iter().map(|c| (c.name.clone(), c.weight)).collect::<BTreeMap<_, _>>();
    let items = |s: &DebugSnapshot| s.interests.items.iter().map(|i| (i.title.clone(), i.weight)).collect::<BTreeMap<_, _>>();
    let moved = moved_table(&categories(before), &categories(after)) + &moved_table(&items(before), &items(after));
    page.section("interests-moved", "Interests that moved", &moved);
    let weights = |s: &DebugSnapshot| s.weights.iter().map(|w| (w.name.clone(), w.in_force)).collect::<BTreeMap<_, _>>();
    page.section("weights-moved", "Weights in force that moved", &moved_table(&weights(before), &weights(after)));
    let store = |s: &DebugSnapshot| {
        let st = &s.inspect.store;
        BTreeMap::from([("events".to_string(), st.events as f64), ("bytes on disk".to_string(), st.bytes_on_disk as f64), ("impressions".to_string(), s.inspect.impressions as f64)])
    };
    page.section("store-moved", "Storage", &moved_table(&store(before), &store(after)));
    page.finish()
}

/// An HTML document built section by section.
struct Page {
    html: String,
}

impl Page {
    fn new(title: &str, subtitle: &str) -> Self {
        let mut html = String::from("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n");
        // No network: nothing may load from anywhere, not even this file's own origin.
        html.push_str("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">\n");
        let _ = write!(html, "<title>{}</title>\n<style>{STYLE}</style></head><body>\n<header><h1>{}</h1><p>{}</p></header>\n", esc(title), esc(title), esc(subtitle));
        Page { html }
    }

    fn section(&mut self, id: &str, title: &str, body: &str) {
        let _ = write!(self.html, "<section id=\"{id}\"><h2>{}</h2>\n{body}\n</section>\n", esc(title));
    }

    fn finish(mut self) -> String {
        self.html.push_str("<footer>Rendered by <code>mizan inspect</code> from a debug snapshot: aggregates only unless raw events were asked for; sensitive items and categories are never in it.</footer>\n</body></html>\n");
        self.html
    }
}

const STYLE: &str = "body{font:14px/1.45 system-ui,sans-serif;margin:0 auto;max-width:1100px;padding:0 24px;color:#1d2330}\
header{border-bottom:2px solid #2a6f97;margin-bottom:8px}h1{margin:16px 0 0;font-size:22px}h2{font-size:17px;margin:24px 0 8px;color:#2a6f97}\
table{border-collapse:collapse;margin:6px 0 12px}td,th{border-bottom:1px solid #dde3ea;padding:3px 10px;text-align:left;vertical-align:top}\
th{background:#f1f5f9}td.num{text-align:right;font-variant-numeric:tabular-nums}.cards{display:flex;flex-wrap:wrap;gap:12px}\
.card{border:1px solid #dde3ea;border-radius:6px;padding:8px 12px;min-width:200px}.card h3{margin:0 0 4px;font-size:14px}\
.ok{color:#1b7f3b}.warn{color:#b3261e;font-weight:600}.item{border-top:1px solid #dde3ea;padding:8px 0}.muted{color:#5b6675}\
svg text{font:11px system-ui,sans-serif;fill:#1d2330}footer{margin:32px 0 16px;color:#5b6675;font-size:12px}";

/// Escapes text for HTML.
fn esc(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}

/// A UTC date and time.
fn when(ms: i64) -> String {
    let days = ms.div_euclid(86_400_000);
    let secs = ms.rem_euclid(86_400_000) / 1000;
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02} {:02}:{:02} UTC", secs / 3600, secs / 60 % 60)
}

fn pack_line(s: &DebugSnapshot) -> String {
    match &s.inspect.catalog {
        Some(c) => format!("pack v{} ({} items, {} categories)", c.meta.pack_version, c.items, c.categories),
        None => "no pack loaded".to_string(),
    }
}

fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    if rows.is_empty() {
        return "<p class=\"muted\">Nothing to show.</p>".to_string();
    }
    let mut html = String::from("<table><tr>");
    headers.iter().for_each(|h| {
        let _ = write!(html, "<th>{}</th>", esc(h));
    });
    html.push_str("</tr>");
    for row in rows {
        html.push_str("<tr>");
        for cell in row {
            let numeric = cell.parse::<f64>().is_ok();
            let _ = write!(html, "<td{}>{cell}</td>", if numeric { " class=\"num\"" } else { "" });
        }
        html.push_str("</tr>");
    }
    html + "</table>"
}

fn card(title: &str, lines: &[String]) -> String {
    format!("<div class=\"card\"><h3>{}</h3>{}</div>", esc(title), lines.iter().map(|l| format!("<div>{l}</div>")).collect::<String>())
}

fn glance(s: &DebugSnapshot) -> String {
    let r = &s.inspect;
    let consents: Vec<String> = match r.consents.is_empty() {
        true => vec!["<span class=\"warn\">none given</span>".to_string()],
        false => r.consents.iter().map(|c| format!("{}: {} <span class=\"muted\">(policy {})</span>", esc(&c.purpose), if c.granted { "<span class=\"ok\">granted</span>" } else { "<span class=\"warn\">withdrawn</span>" }, esc(&c.policy_version))).collect(),
    };
    let retention = [
        format!("max age: {}", r.policy.retention.max_age_days.map_or("none".to_string(), |d| format!("{d} days"))),
        format!("max log: {}", r.policy.retention.max_log_bytes.map_or("none".to_string(), |b| format!("{:.1} MiB", b as f64 / 1_048_576.0))),
        format!("timestamps: {}", r.policy.timestamp_granularity_ms.map_or("to the ms".to_string(), |g| format!("rounded to {} s", g / 1000))),
        format!("sync: {}", esc(&r.policy.sync)),
    ];
    let st = &r.store;
    let damaged = st.corrupt_records + st.damaged_segments + st.missing_segments + st.unreadable_files_removed;
    let health = if damaged == 0 && st.truncated_bytes == 0 && !st.snapshot_discarded {
        "<span class=\"ok\">healthy</span>".to_string()
    } else {
        format!("<span class=\"warn\">recovered: {} corrupt records, {} torn bytes, {} damaged and {} missing segments, {} unreadable files</span>", st.corrupt_records, st.truncated_bytes, st.damaged_segments, st.missing_segments, st.unreadable_files_removed)
    };
    let storage = [
        format!("{} events ({} since the last model snapshot)", st.events, st.events_since_snapshot),
        format!("{} segment(s), {} bytes on disk, format v{}", st.segments, st.bytes_on_disk, st.format_version),
        health,
    ];
    let model = [
        format!("personalised: {}", r.personalised),
        format!("{} items in the profile; {} unknown to the pack; {} sensitive kept out", s.interests.items_in_profile, r.unknown_items, r.sensitive_items_ignored),
        format!("{} impressions, {} items marked not interested", r.impressions, r.suppressed_items),
        format!("trend share now: {:.2}", r.trend_share),
    ];
    format!("<div class=\"cards\">{}{}{}{}</div>", card("Consent", &consents), card("Retention", &retention), card("Storage", &storage), card("Model", &model))
}

/// Horizontal bars for named values, negative ones to the left of the axis.
fn bar_chart(rows: &[(String, f64)]) -> String {
    if rows.is_empty() {
        return "<p class=\"muted\">Nothing learned yet.</p>".to_string();
    }
    let max = rows.iter().map(|(_, v)| v.abs()).fold(f64::MIN_POSITIVE, f64::max);
    let (label_w, half, row_h) = (220.0, 300.0, 20.0);
    let height = rows.len() as f64 * row_h + 4.0;
    let axis = label_w + half;
    let mut svg = format!("<svg role=\"img\" width=\"{}\" height=\"{height}\" viewBox=\"0 0 {} {height}\">", axis + half + 60.0, axis + half + 60.0);
    for (n, (name, value)) in rows.iter().enumerate() {
        let y = n as f64 * row_h;
        let w = value.abs() / max * half;
        let x = if *value < 0.0 { axis - w } else { axis };
        let colour = if *value < 0.0 { "#c2410c" } else { "#2a6f97" };
        let _ = write!(
            svg,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text><rect x=\"{x:.1}\" y=\"{}\" width=\"{w:.1}\" height=\"{}\" fill=\"{colour}\"><title>{} {value:.3}</title></rect><text x=\"{}\" y=\"{}\">{value:.2}</text>",
            label_w - 6.0,
            y + 14.0,
            esc(&truncate(name, 34)),
            y + 3.0,
            row_h - 6.0,
            esc(name),
            axis + half + 4.0,
            y + 14.0
        );
    }
    let _ = write!(svg, "<line x1=\"{axis}\" x2=\"{axis}\" y1=\"0\" y2=\"{height}\" stroke=\"#5b6675\"/></svg>");
    svg
}

fn truncate(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_string(),
    }
}

fn interests(s: &DebugSnapshot) -> String {
    let categories: Vec<(String, f64)> = s.interests.categories.iter().map(|c| (c.name.clone(), c.weight)).collect();
    let items: Vec<(String, f64)> = s.interests.items.iter().map(|i| (i.title.clone(), i.weight)).collect();
    format!("<h3>Categories</h3>{}<h3>Items</h3>{}", bar_chart(&categories), bar_chart(&items))
}

fn engagement(s: &DebugSnapshot) -> String {
    let e = &s.engagement;
    let max = e.by_hour_of_week.iter().copied().fold(0.0, f64::max);
    let (cell, left, top) = (30.0, 40.0, 18.0);
    let (w, h) = (left + 24.0 * cell + 4.0, top + 7.0 * cell + 4.0);
    let mut svg = format!("<svg role=\"img\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\">");
    for hour in (0..24).step_by(3) {
        let _ = write!(svg, "<text x=\"{}\" y=\"12\">{hour:02}</text>", left + hour as f64 * cell + 4.0);
    }
    for (day, name) in ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"].iter().enumerate() {
        let _ = write!(svg, "<text x=\"4\" y=\"{}\">{name}</text>", top + day as f64 * cell + 19.0);
        for hour in 0..24 {
            let at = day * 24 + hour;
            let value = e.by_hour_of_week.get(at).copied().unwrap_or(0.0);
            let shade = if max > 0.0 { value / max } else { 0.0 };
            let quiet = e.quiet_hours_of_week.contains(&(at as u32));
            let (x, y) = (left + hour as f64 * cell, top + day as f64 * cell);
            let fill = format!("rgba(42,111,151,{:.3})", 0.06 + 0.94 * shade);
            let stroke = if quiet { " stroke=\"#7c3aed\" stroke-width=\"1.5\" stroke-dasharray=\"3 2\"" } else { " stroke=\"#fff\"" };
            let _ = write!(svg, "<rect x=\"{x}\" y=\"{y}\" width=\"{cell}\" height=\"{cell}\" fill=\"{fill}\"{stroke}><title>{name} {hour:02}:00 UTC: {value:.2}{}</title></rect>", if quiet { " (quiet)" } else { "" });
        }
    }
    svg.push_str("</svg>");
    let b = &e.best_time;
    let best = if b.fallback {
        format!("Best time: the default (local {:02}:00), too little data ({} notification opens and session starts).", b.local_hour, e.events)
    } else {
        format!("Best time: {} (local {:02}:00, weekday {}), confidence {:.2}, from {} events.", when(b.at_ms), b.local_hour, b.weekday, b.confidence, e.events)
    };
    format!("{svg}<p>Darker: more notification opens and session starts (decayed). Dashed outline: quiet hours, 22:00–08:00 local at UTC{:+}. {}</p>", f64::from(e.utc_offset_minutes) / 60.0, esc(&best))
}

fn weights(s: &DebugSnapshot) -> String {
    let rows: Vec<Vec<String>> = s
        .weights
        .iter()
        .map(|w| {
            let change = if w.pack != 0.0 { format!("{:+.1}%", (w.in_force / w.pack - 1.0) * 100.0) } else { "—".to_string() };
            vec![esc(&w.name), format!("{:.3}", w.pack), format!("{:.3}", w.in_force), change]
        })
        .collect();
    let learned = &s.inspect.online_ranker;
    format!("{}<p class=\"muted\">The online ranker learned from {} impressions on this device.</p>", table(&["weight", "pack", "in force", "change"], &rows), learned.impressions)
}

/// A waterfall of one item's score: each signal's bar starts where the previous ended.
fn waterfall(contributions: &[Contribution], score: f64) -> String {
    let shown: Vec<&Contribution> = contributions.iter().filter(|c| c.contribution != 0.0).collect();
    let mut running = 0.0;
    let mut spans = Vec::new();
    for c in &shown {
        spans.push((c.signal.as_str(), running, running + c.contribution));
        running += c.contribution;
    }
    let (lo, hi) = spans.iter().fold((0.0f64, score.max(0.0)), |(lo, hi), &(_, a, b)| (lo.min(a).min(b), hi.max(a).max(b)));
    let range = (hi - lo).max(1e-9);
    let (label_w, plot_w, row_h) = (90.0, 520.0, 18.0);
    let x = |v: f64| label_w + (v - lo) / range * plot_w;
    let height = (spans.len() + 1) as f64 * row_h + 4.0;
    let mut svg = format!("<svg role=\"img\" width=\"{}\" height=\"{height}\" viewBox=\"0 0 {} {height}\">", label_w + plot_w + 80.0, label_w + plot_w + 80.0);
    for (n, &(signal, a, b)) in spans.iter().chain([("score", 0.0, score)].iter()).enumerate() {
        let y = n as f64 * row_h;
        let (left, right) = (x(a.min(b)), x(a.max(b)));
        let colour = match signal {
            "score" => "#1d2330",
            _ if b < a => "#c2410c",
            _ => "#2a6f97",
        };
        let _ = write!(
            svg,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{signal}</text><rect x=\"{left:.1}\" y=\"{}\" width=\"{:.1}\" height=\"{}\" fill=\"{colour}\"/><text x=\"{:.1}\" y=\"{}\">{:+.3}</text>",
            label_w - 6.0,
            y + 13.0,
            y + 3.0,
            (right - left).max(1.0),
            row_h - 6.0,
            right + 4.0,
            y + 13.0,
            b - a
        );
    }
    let _ = write!(svg, "<line x1=\"{:.1}\" x2=\"{:.1}\" y1=\"0\" y2=\"{height}\" stroke=\"#5b6675\"/></svg>", x(0.0), x(0.0));
    svg
}

fn sources(contributions: &[Contribution]) -> String {
    let lines: Vec<String> = contributions
        .iter()
        .filter(|c| !c.sources.is_empty())
        .map(|c| {
            let names: Vec<String> = c.sources.iter().map(|s| format!("{} ({:+.3})", esc(&s.title), s.contribution)).collect();
            format!("<li><b>{}</b>: {}</li>", esc(&c.signal), names.join(", "))
        })
        .collect();
    if lines.is_empty() {
        return String::new();
    }
    format!("<ul>{}</ul>", lines.join(""))
}

fn recommendations(items: &[ExplainedItem]) -> String {
    if items.is_empty() {
        return "<p class=\"muted\">No list: no pack is loaded.</p>".to_string();
    }
    items
        .iter()
        .map(|item| {
            let placement = match item.placement.kind.as_str() {
                "exploration" => format!("placed by exploration of {}", esc(item.placement.category.as_deref().unwrap_or("a category"))),
                _ => match item.placement.relevance_rank {
                    Some(r) if r != item.position => format!("rank {r} by score; diversity re-ranking moved it to {}", item.position),
                    _ => "placed by its score".to_string(),
                },
            };
            format!(
                "<div class=\"item\"><h3>{}. {} <span class=\"muted\">{} · score {:.3} · {placement} (placement is not part of the score)</span></h3><p>{}</p>{}{}</div>",
                item.position,
                esc(&item.title),
                esc(&item.item_id),
                item.score,
                esc(&item.reasons.join(" · ")),
                waterfall(&item.contributions, item.score),
                sources(&item.contributions)
            )
        })
        .collect()
}

fn verdict_text(v: &Verdict) -> String {
    match v {
        Verdict::Listed { position } => format!("listed at {position}"),
        Verdict::Unknown => "not in the pack".to_string(),
        Verdict::Sensitive => "sensitive: not described".to_string(),
        Verdict::Unavailable => "outside its availability window".to_string(),
        Verdict::NotInterested => "the person said not interested".to_string(),
        Verdict::Capped => "hidden by a frequency cap".to_string(),
        Verdict::Seen => "already seen or bought".to_string(),
        Verdict::OutsideCandidates => "not among the candidates scored".to_string(),
        Verdict::BelowCut { lowest_listed_score } => match lowest_listed_score {
            Some(s) => format!("scored below the list (lowest listed {s:.3})"),
            None => "scored below the list".to_string(),
        },
    }
}

fn why_not(named: &[NamedItem]) -> String {
    if named.is_empty() {
        return "<p class=\"muted\">No items were named: pass item ids in the snapshot's options to see why they are or are not listed.</p>".to_string();
    }
    let rows: Vec<Vec<String>> = named
        .iter()
        .map(|n| {
            let strongest = n.contributions.iter().filter(|c| c.contribution != 0.0).max_by(|a, b| a.contribution.abs().total_cmp(&b.contribution.abs()));
            vec![
                esc(&n.item_id),
                esc(&verdict_text(&n.verdict)),
                n.score.map_or("—".to_string(), |s| format!("{s:.3}")),
                strongest.map_or("—".to_string(), |c| format!("{} {:+.3}", esc(&c.signal), c.contribution)),
            ]
        })
        .collect();
    table(&["item", "verdict", "score", "strongest signal"], &rows)
}

fn list_changes(before: &DebugSnapshot, after: &DebugSnapshot) -> String {
    let position = |s: &DebugSnapshot, id: &str| s.recommendations.iter().find(|r| r.item_id == id).map(|r| r.position);
    let mut rows: Vec<Vec<String>> = after
        .recommendations
        .iter()
        .map(|r| {
            let change = match position(before, &r.item_id) {
                None => "new".to_string(),
                Some(p) if p == r.position => "same place".to_string(),
                Some(p) => format!("was {p}"),
            };
            vec![r.position.to_string(), esc(&r.title), format!("{:.3}", r.score), change]
        })
        .collect();
    rows.extend(before.recommendations.iter().filter(|r| position(after, &r.item_id).is_none()).map(|r| vec!["—".to_string(), esc(&r.title), format!("{:.3}", r.score), format!("lost (was {})", r.position)]));
    table(&["now", "item", "score", "change"], &rows)
}

/// Values present in either snapshot, with their change, largest first
/// (unchanged ones last).
fn moved_table(before: &BTreeMap<String, f64>, after: &BTreeMap<String, f64>) -> String {
    let mut rows: Vec<(f64, Vec<String>)> = before
        .keys()
        .chain(after.keys())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .map(|name| {
            let (a, b) = (before.get(name).copied(), after.get(name).copied());
            let delta = b.unwrap_or(0.0) - a.unwrap_or(0.0);
            let show = |v: Option<f64>| v.map_or("—".to_string(), |v| format!("{v:.3}"));
            let change = if delta == 0.0 { "unchanged".to_string() } else { format!("{delta:+.3}") };
            (delta.abs(), vec![esc(name), show(a), show(b), change])
        })
        .collect();
    rows.sort_by(|a, b| b.0.total_cmp(&a.0));
    table(&["", "before", "after", "change"], &rows.into_iter().map(|(_, r)| r).collect::<Vec<_>>())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_civil_utc() {
        assert_eq!(when(0), "1970-01-01 00:00 UTC");
        assert_eq!(when(1_772_442_000_000), "2026-03-02 09:00 UTC");
        assert_eq!(when(-86_400_000), "1969-12-31 00:00 UTC");
    }

    #[test]
    fn other_documents_and_versions_are_refused_with_a_reason() {
        let dir = tempfile::tempdir().unwrap();
        let cases = [("{\"format\": \"mizan-export\"}", "not a mizan-debug-snapshot document"), ("{\"format\": \"mizan-debug-snapshot\", \"version\": 2}", "snapshot version 2"), ("not json", "not JSON")];
        for (n, (text, expected)) in cases.iter().enumerate() {
            let path = dir.path().join(format!("{n}.json"));
            std::fs::write(&path, text).unwrap();
            let error = read_snapshot(&path).unwrap_err().to_string();
            assert!(error.contains(expected), "{error}");
        }
        assert!(run(&[], &dir.path().join("out.html")).is_err(), "a snapshot is required");
    }

    #[test]
    fn text_is_escaped() {
        assert_eq!(esc("<b a=\"x\">&'"), "&lt;b a=&quot;x&quot;&gt;&amp;&#39;");
        assert_eq!(truncate("abcdef", 3), "abc…");
    }
}
