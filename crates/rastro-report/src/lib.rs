//! Printable documents. [`package_html`] renders a lead package as one self-contained HTML
//! page: inline styles, an inline SVG map and timeline, no script and nothing loaded from
//! anywhere, so it prints to PDF in any browser (the CLI uses Chromium's headless print) and
//! can be carried on removable media. Every word is Spanish or English (`i18n`); every value
//! that came from a record is escaped.
//!
//! Written here rather than with a templating crate because the document is one fixed layout
//! and escaping is the only rule that matters; a template engine would add a second language
//! for the same three tables.

pub mod i18n;

use i18n::{admiralty, w, Lang};
use rastro_app::package::PackageV1;
use rastro_app::views::{ContributionV1, MarkingV1};
use std::fmt::Write;

/// HTML-escapes text for element content and attribute values.
pub fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c if c.is_control() && c != '\n' => {}
            c => o.push(c),
        }
    }
    o
}

/// `2026-03-04T14:05:00.000Z` as `2026-03-04 14:05 UTC`; other text unchanged.
pub fn when(t: &str) -> String {
    if t.len() >= 16 && t.as_bytes().get(10) == Some(&b'T') {
        format!("{} {} UTC", &t[..10], &t[11..16])
    } else {
        t.to_string()
    }
}

/// TLP 2.0 colours (FIRST): text on black.
fn tlp_colour(tlp: &str) -> &'static str {
    match tlp {
        "RED" => "#FF2B2B",
        "AMBER" | "AMBER+STRICT" => "#FFC000",
        "GREEN" => "#33FF00",
        _ => "#FFFFFF",
    }
}

fn banner(m: &MarkingV1) -> String {
    format!(
        "<div class=\"tlp\"><span style=\"color:{}\">{}</span></div>",
        tlp_colour(&m.tlp),
        esc(&m.text)
    )
}

/// An outcome-counting kind (`alert:route_deviation`, `tip`) in words.
pub fn kind_name(lang: Lang, kind: &str) -> String {
    match kind.strip_prefix("alert:") {
        Some(t) => format!(
            "{}: {}",
            w(lang, "kind.alert"),
            w(lang, &format!("typ.{t}"))
        ),
        None => w(lang, &format!("kind.{kind}")).to_string(),
    }
}

fn evidence_detail(lang: Lang, c: &ContributionV1) -> String {
    if c.kind == "alert" {
        return w(lang, &format!("typ.{}", c.detail)).to_string();
    }
    admiralty(lang, &c.detail).unwrap_or_else(|| c.detail.clone())
}

const STYLE: &str = "body{font-family:'DejaVu Sans','Liberation Sans',Arial,sans-serif;font-size:10pt;color:#111;margin:0 auto;max-width:190mm}\
h1{font-size:17pt;margin:6pt 0}h2{font-size:12.5pt;border-bottom:1.5pt solid #333;margin:14pt 0 5pt;padding-bottom:2pt;break-after:avoid}\
table{border-collapse:collapse;width:100%;margin:3pt 0;font-size:9pt}th,td{border:0.5pt solid #999;padding:2pt 4pt;text-align:left;vertical-align:top}\
th{background:#eee}td.n{text-align:right;font-variant-numeric:tabular-nums}tr{break-inside:avoid}\
.tlp{background:#000;text-align:center;font-weight:bold;padding:3pt;letter-spacing:0.5pt}\
.pap{border:1pt solid #333;padding:4pt;margin:4pt 0}.note{color:#444;font-size:9pt}\
.meta td:first-child{width:38%;color:#333}code{font-size:8pt;word-break:break-all}td.id{white-space:nowrap}td.id code{word-break:normal}\
@page{size:A4;margin:14mm 12mm}@media print{.tlp{-webkit-print-color-adjust:exact;print-color-adjust:exact}}";

/// The map: lead sites and evidence on a local equirectangular projection, with a scale bar.
fn map_svg(p: &PackageV1, lang: Lang) -> String {
    let mut pts: Vec<(f64, f64)> = p.leads.iter().map(|l| (l.lat, l.lon)).collect();
    for l in &p.leads {
        pts.extend(l.evidence.iter().map(|c| (c.lat, c.lon)));
    }
    pts.retain(|(a, b)| a.is_finite() && b.is_finite());
    if pts.is_empty() {
        return String::new();
    }
    let (mut lat0, mut lat1, mut lon0, mut lon1) = (90.0f64, -90.0f64, 180.0f64, -180.0f64);
    for (a, b) in &pts {
        lat0 = lat0.min(*a);
        lat1 = lat1.max(*a);
        lon0 = lon0.min(*b);
        lon1 = lon1.max(*b);
    }
    let mid = (lat0 + lat1) / 2.0;
    let kx = 111_320.0 * mid.to_radians().cos();
    let ky = 110_540.0;
    // Metres spanned, at least 2 km so a single point has context, plus a margin.
    let span_m = (((lon1 - lon0) * kx).max((lat1 - lat0) * ky)).max(2_000.0) * 1.15;
    let (wpx, hpx) = (680.0f64, 420.0f64);
    let scale = wpx.min(hpx) / span_m;
    let (cx, cy) = ((lon0 + lon1) / 2.0, mid);
    let xy = |lat: f64, lon: f64| {
        (
            wpx / 2.0 + (lon - cx) * kx * scale,
            hpx / 2.0 - (lat - cy) * ky * scale,
        )
    };
    let mut s = format!(
        "<svg viewBox=\"0 0 {wpx} {hpx}\" width=\"100%\" role=\"img\" aria-label=\"{}\" style=\"border:0.5pt solid #999;background:#f7f7f2\">",
        esc(w(lang, "map"))
    );
    // A 1-2-5 scale bar near a fifth of the width.
    let target = span_m / 5.0;
    let step = [1.0, 2.0, 5.0]
        .iter()
        .flat_map(|m| (0..7).map(move |e| m * 10f64.powi(e)))
        .filter(|v| *v <= target)
        .fold(1.0, f64::max);
    let bar = step * scale;
    let label = if step >= 1000.0 {
        format!("{} km", step / 1000.0)
    } else {
        format!("{step} m")
    };
    let _ = write!(
        s,
        "<line x1=\"20\" y1=\"{y}\" x2=\"{x2:.1}\" y2=\"{y}\" stroke=\"#000\" stroke-width=\"3\"/><text x=\"20\" y=\"{ty}\" font-size=\"12\">{} {}</text>",
        esc(w(lang, "scale")),
        esc(&label),
        y = hpx - 18.0,
        x2 = 20.0 + bar,
        ty = hpx - 24.0
    );
    let _ = write!(
        s,
        "<text x=\"{}\" y=\"22\" font-size=\"14\" font-weight=\"bold\">N ↑</text>",
        wpx - 40.0
    );
    for l in &p.leads {
        let (x, y) = xy(l.lat, l.lon);
        // A ring of about the site's extent: its cells' area as a disc (H3 average hexagon
        // edge by resolution).
        let edge_m = match l.resolution {
            0..=6 => 3_230.0,
            7 => 1_220.0,
            8 => 461.0,
            9 => 174.0,
            10 => 66.0,
            _ => 25.0,
        };
        let area_m2 = l.cells.len().max(1) as f64 * 2.598 * edge_m * edge_m;
        let r = (area_m2 / std::f64::consts::PI).sqrt() * scale;
        let _ = write!(
            s,
            "<circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"{:.1}\" fill=\"rgba(200,30,30,0.12)\" stroke=\"#b00\" stroke-width=\"2\"/><text x=\"{:.1}\" y=\"{:.1}\" font-size=\"13\" font-weight=\"bold\" fill=\"#800\">#{}</text>",
            r.max(6.0),
            x + r.max(6.0) + 3.0,
            y + 4.0,
            l.rank
        );
        for c in &l.evidence {
            let (x, y) = xy(c.lat, c.lon);
            let fill = match c.kind.as_str() {
                "alert" => "#d35400",
                "stop" => "#2471a3",
                "tip" | "report" => "#7d3c98",
                _ => "#1e8449",
            };
            let _ = write!(s, "<circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"3.5\" fill=\"{fill}\" stroke=\"#fff\" stroke-width=\"0.8\"/>");
        }
    }
    s.push_str("</svg>");
    s
}

/// Evidence over time: one tick per item on a strip, coloured by kind.
fn timeline_svg(items: &[(&str, &ContributionV1)]) -> String {
    let times: Vec<i64> = items
        .iter()
        .filter_map(|(_, c)| rastro_core_time(&c.time))
        .collect();
    let (Some(t0), Some(t1)) = (times.iter().min(), times.iter().max()) else {
        return String::new();
    };
    let span = (t1 - t0).max(1) as f64;
    let mut s = String::from("<svg viewBox=\"0 0 680 50\" width=\"100%\" role=\"img\">");
    s.push_str("<line x1=\"10\" y1=\"25\" x2=\"670\" y2=\"25\" stroke=\"#666\"/>");
    for t in &times {
        let x = 10.0 + 660.0 * (t - t0) as f64 / span;
        let _ = write!(s, "<line x1=\"{x:.1}\" y1=\"15\" x2=\"{x:.1}\" y2=\"35\" stroke=\"#b00\" stroke-width=\"1.5\"/>");
    }
    let _ = write!(
        s,
        "<text x=\"10\" y=\"48\" font-size=\"10\">{}</text><text x=\"670\" y=\"48\" font-size=\"10\" text-anchor=\"end\">{}</text></svg>",
        esc(&when(items.iter().map(|(_, c)| c.time.as_str()).min().unwrap_or(""))),
        esc(&when(items.iter().map(|(_, c)| c.time.as_str()).max().unwrap_or("")))
    );
    s
}

/// Milliseconds of an RFC 3339 time written by Rastro (`YYYY-MM-DDTHH:MM:SS(.sss)Z`).
fn rastro_core_time(t: &str) -> Option<i64> {
    let b = t.as_bytes();
    if b.len() < 19 {
        return None;
    }
    let n = |r: std::ops::Range<usize>| t.get(r)?.parse::<i64>().ok();
    let (y, mo, d, h, mi, s) = (
        n(0..4)?,
        n(5..7)?,
        n(8..10)?,
        n(11..13)?,
        n(14..16)?,
        n(17..19)?,
    );
    // Days from the civil date (Howard Hinnant's algorithm).
    let y2 = if mo <= 2 { y - 1 } else { y };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let mp = (mo + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(((days * 24 + h) * 60 + mi) * 60_000 + s * 1000)
}

/// The package as one self-contained HTML page in its language.
pub fn package_html(p: &PackageV1) -> String {
    let lang = Lang::parse(&p.lang).unwrap_or(Lang::En);
    let t = |k: &str| esc(w(lang, k));
    let mut h = String::with_capacity(64 * 1024);
    let _ = write!(
        h,
        "<!DOCTYPE html><html lang=\"{}\"><head><meta charset=\"utf-8\"><title>{} {}</title><style>{STYLE}</style></head><body>",
        lang.code(),
        t("title"),
        esc(&p.id)
    );
    h.push_str(&banner(&p.marking));
    let _ = write!(h, "<h1>{} · {}</h1>", t("title"), esc(&p.id));
    let _ = write!(
        h,
        "<div class=\"pap\"><b>{}</b>: {} <br><b>{}</b>: {}<br><span class=\"note\">{} {}</span></div>",
        t("marking"),
        esc(&p.marking.text),
        t("handling"),
        t(&format!("pap.{}", p.pap.as_str())),
        t("marking_basis"),
        t("viewer_note")
    );

    // Summary.
    let _ = write!(
        h,
        "<h2>{}</h2><table><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>",
        t("summary"),
        t("rank"),
        t("score"),
        t("position"),
        t("items"),
        t("kinds"),
        t("last_seen"),
        t("status")
    );
    for l in &p.leads {
        let mut kinds: Vec<&str> = l.evidence.iter().map(|c| c.kind.as_str()).collect();
        kinds.sort_unstable();
        kinds.dedup();
        let kinds: Vec<String> = kinds
            .iter()
            .map(|k| esc(w(lang, &format!("kind.{k}"))))
            .collect();
        let _ = write!(
            h,
            "<tr><td class=\"n\">{}</td><td class=\"n\">{:.3}</td><td>{:.5}, {:.5}</td><td class=\"n\">{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            l.rank,
            l.score,
            l.lat,
            l.lon,
            l.evidence.len(),
            kinds.join(", "),
            esc(&when(&l.last_seen)),
            t(&format!("st.{}", l.status))
        );
    }
    h.push_str("</table>");
    for l in &p.leads {
        let _ = write!(
            h,
            "<p class=\"note\"><b>{} {}</b> ({}): {}</p>",
            t("lead"),
            esc(&l.id),
            t("summary_note"),
            esc(&l.summary)
        );
    }

    // Map and timeline.
    let _ = write!(
        h,
        "<h2>{}</h2>{}<p class=\"note\">{}</p>",
        t("map"),
        map_svg(p, lang),
        t("map_note")
    );
    let mut items: Vec<(&str, &ContributionV1)> = p
        .leads
        .iter()
        .flat_map(|l| l.evidence.iter().map(move |c| (l.id.as_str(), c)))
        .collect();
    items.sort_by(|a, b| a.1.time.cmp(&b.1.time).then(a.1.origin.cmp(&b.1.origin)));
    let _ = write!(h, "<h2>{}</h2>{}", t("timeline"), timeline_svg(&items));

    // Evidence.
    let _ = write!(
        h,
        "<h2>{}</h2><table><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>",
        t("evidence"),
        t("time"),
        t("kind"),
        t("detail"),
        t("source"),
        t("weight"),
        t("contribution"),
        t("marking")
    );
    for (_, c) in &items {
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td><code>{}</code></td><td class=\"n\">{:.3}</td><td class=\"n\">{:.3}</td><td>{}</td></tr>",
            esc(&when(&c.time)),
            t(&format!("kind.{}", c.kind)),
            esc(&evidence_detail(lang, c)),
            esc(&c.origin),
            c.weight,
            c.contribution,
            esc(&c.marking.text)
        );
    }
    h.push_str("</table>");

    // Consignments and parties.
    let _ = write!(h, "<h2>{}</h2>", t("consignments"));
    if p.consignments.is_empty() {
        let _ = write!(h, "<p>{}</p>", t("none"));
    } else {
        let _ = write!(
            h,
            "<table><tr><th>ID</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>",
            t("declaration"),
            t("chemical"),
            t("quantity"),
            t("importer"),
            t("consignee"),
            t("destination"),
            t("arrival"),
            t("marking")
        );
        for c in &p.consignments {
            let _ = write!(
                h,
                "<tr><td class=\"id\"><code>{}</code></td><td>{}</td><td>{} ({})</td><td class=\"n\">{} {}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&c.id),
                esc(&c.declaration),
                esc(&c.description),
                esc(&c.cas),
                c.quantity,
                esc(&c.unit),
                esc(&c.importer),
                esc(&c.consignee),
                esc(&c.destination),
                esc(&when(&c.arrival)),
                esc(&c.marking.text)
            );
        }
        h.push_str("</table>");
    }
    let _ = write!(h, "<h2>{}</h2>", t("parties"));
    if p.parties.is_empty() {
        let _ = write!(h, "<p>{}</p>", t("none"));
    } else {
        let _ = write!(
            h,
            "<table><tr><th>ID</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>",
            t("kind"),
            t("name"),
            t("rfc"),
            t("city"),
            t("marking")
        );
        for x in &p.parties {
            let _ = write!(
                h,
                "<tr><td class=\"id\"><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&x.id),
                esc(&x.kind),
                esc(&x.name),
                esc(x.rfc.as_deref().unwrap_or("")),
                esc(x.city.as_deref().unwrap_or("")),
                esc(&x.marking.text)
            );
        }
        h.push_str("</table>");
    }

    // Confidence.
    let _ = write!(
        h,
        "<h2>{}</h2><table><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>",
        t("confidence"),
        t("lead"),
        t("z"),
        t("p"),
        t("mass")
    );
    for l in &p.leads {
        let _ = write!(
            h,
            "<tr><td><code>{}</code></td><td class=\"n\">{:.2}</td><td class=\"n\">{:.2e}</td><td class=\"n\">{:.2} / {:.2}</td></tr>",
            esc(&l.id),
            l.z_max,
            l.p_min,
            l.evidence_mass,
            l.background
        );
    }
    h.push_str("</table>");
    let _ = write!(h, "<p><b>{}</b></p>", t("hit_rates"));
    if p.hit_rates.is_empty() {
        let _ = write!(h, "<p class=\"note\">{}</p>", t("no_outcomes"));
    } else {
        h.push_str("<table>");
        for r in &p.hit_rates {
            let _ = write!(
                h,
                "<tr><td>{}</td><td class=\"n\">{} {} / {} {}</td><td class=\"n\">{} {:.2}</td></tr>",
                esc(&kind_name(lang, &r.kind)),
                r.hits,
                t("hits"),
                r.trials,
                t("trials"),
                t("rate"),
                r.rate
            );
        }
        h.push_str("</table>");
    }

    // Provenance.
    let _ = write!(h, "<h2>{}</h2><table class=\"meta\">", t("provenance"));
    for (k, v) in [
        ("package_id", p.id.clone()),
        ("sha256", p.sha256.clone()),
        ("created", when(&p.created)),
        ("created_by", p.created_by.clone()),
        ("org", p.org.clone()),
        ("generator", p.generator.clone()),
    ] {
        let _ = write!(
            h,
            "<tr><td>{}</td><td><code>{}</code></td></tr>",
            t(k),
            esc(&v)
        );
    }
    h.push_str("</table>");
    let _ = write!(h, "<p class=\"note\">{}</p>", t("lawful"));
    h.push_str(&banner(&p.marking));
    h.push_str("</body></html>");
    h
}
