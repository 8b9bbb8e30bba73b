//! SVG plots of a calibration: the two score distributions with the threshold, and the ROC
//! curve with the chosen point. Presentation attributes only (no `style`), so the UI's strict
//! content-security policy holds; every text in the reader's language.

use crate::calibrate::Calibration;
use std::fmt::Write;

/// The words on the plots, in one language.
pub struct Labels {
    pub distributions: &'static str,
    pub roc: &'static str,
    pub linked: &'static str,
    pub unlinked: &'static str,
    pub threshold: &'static str,
    pub pairs: &'static str,
    pub false_link_rate: &'static str,
    pub true_link_rate: &'static str,
    pub chance: &'static str,
}

impl Labels {
    pub fn for_lang(lang: &str) -> &'static Labels {
        if lang.starts_with("es") {
            &ES
        } else {
            &EN
        }
    }
}

pub static EN: Labels = Labels {
    distributions: "Score distributions",
    roc: "ROC curve",
    linked: "known linked",
    unlinked: "known unlinked",
    threshold: "threshold",
    pairs: "share of pairs",
    false_link_rate: "false-link rate",
    true_link_rate: "true-link rate",
    chance: "chance",
};

pub static ES: Labels = Labels {
    distributions: "Distribuciones de puntuación",
    roc: "Curva ROC",
    linked: "vinculados conocidos",
    unlinked: "no vinculados conocidos",
    threshold: "umbral",
    pairs: "proporción de pares",
    false_link_rate: "tasa de vínculos falsos",
    true_link_rate: "tasa de vínculos verdaderos",
    chance: "azar",
};

const W: f64 = 520.0;
const H: f64 = 320.0;
const L: f64 = 56.0;
const R: f64 = 16.0;
const T: f64 = 34.0;
const B: f64 = 48.0;
const LINKED: &str = "#1b7837";
const UNLINKED: &str = "#b2182b";

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn open(out: &mut String, title: &str) {
    let _ = write!(
        out,
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" width="{W}" height="{H}" role="img" font-family="sans-serif" font-size="11"><title>{t}</title><rect width="{W}" height="{H}" fill="#ffffff"/><text x="{L}" y="20" font-size="13" font-weight="bold">{t}</text>"##,
        t = esc(title)
    );
}

fn axes(out: &mut String, x0: f64, x1: f64, xlabel: &str, ylabel: &str, ymax: f64) {
    let (pw, ph) = (W - L - R, H - T - B);
    let _ = write!(
        out,
        r##"<line x1="{L}" y1="{yb}" x2="{xr}" y2="{yb}" stroke="#333"/><line x1="{L}" y1="{T}" x2="{L}" y2="{yb}" stroke="#333"/>"##,
        yb = T + ph,
        xr = L + pw
    );
    for k in 0..=4 {
        let f = k as f64 / 4.0;
        let x = L + f * pw;
        let y = T + ph - f * ph;
        let _ = write!(
            out,
            r##"<text x="{x:.1}" y="{ty:.1}" text-anchor="middle">{xv}</text><text x="{lx:.1}" y="{y:.1}" text-anchor="end" dominant-baseline="middle">{yv}</text>"##,
            ty = T + ph + 14.0,
            xv = fmt_num(x0 + f * (x1 - x0)),
            lx = L - 4.0,
            yv = fmt_num(f * ymax),
        );
    }
    let _ = write!(
        out,
        r##"<text x="{cx:.1}" y="{by:.1}" text-anchor="middle">{xl}</text><text x="14" y="{cy:.1}" text-anchor="middle" transform="rotate(-90 14 {cy:.1})">{yl}</text>"##,
        cx = L + pw / 2.0,
        by = H - 10.0,
        cy = T + ph / 2.0,
        xl = esc(xlabel),
        yl = esc(ylabel)
    );
}

fn fmt_num(x: f64) -> String {
    if x.abs() >= 100.0 {
        format!("{x:.0}")
    } else if x.abs() >= 1.0 {
        format!("{x:.2}")
    } else {
        format!("{x:.3}")
    }
}

/// The linked and unlinked distributions of the chosen method's value, threshold marked.
pub fn distributions(c: &Calibration, lb: &Labels) -> String {
    let h = &c.histogram;
    let nl: u32 = h.linked.iter().sum::<u32>().max(1);
    let nu: u32 = h.unlinked.iter().sum::<u32>().max(1);
    let share = |v: &[u32], n: u32| v.iter().map(|x| *x as f64 / n as f64).collect::<Vec<_>>();
    let (sl, su) = (share(&h.linked, nl), share(&h.unlinked, nu));
    let ymax = sl
        .iter()
        .chain(&su)
        .fold(0.0f64, |a, b| a.max(*b))
        .max(1e-9);
    let mut out = String::new();
    open(&mut out, &format!("{} — {}", lb.distributions, c.method));
    axes(
        &mut out,
        h.lo,
        h.hi,
        c.method.distance.name(),
        lb.pairs,
        ymax,
    );
    let (pw, ph) = (W - L - R, H - T - B);
    let bins = sl.len() as f64;
    for (vals, colour) in [(&su, UNLINKED), (&sl, LINKED)] {
        for (k, v) in vals.iter().enumerate() {
            if *v <= 0.0 {
                continue;
            }
            let bh = v / ymax * ph;
            let _ = write!(
                out,
                r##"<rect x="{x:.1}" y="{y:.1}" width="{w:.1}" height="{bh:.1}" fill="{colour}" fill-opacity="0.55"/>"##,
                x = L + k as f64 / bins * pw,
                y = T + ph - bh,
                w = pw / bins,
            );
        }
    }
    let tx = L + ((c.threshold - h.lo) / (h.hi - h.lo)).clamp(0.0, 1.0) * pw;
    let _ = write!(
        out,
        r##"<line x1="{tx:.1}" y1="{T}" x2="{tx:.1}" y2="{yb}" stroke="#000" stroke-dasharray="4 3"/><text x="{lx:.1}" y="{ly}" >{th} {cmp} {tv}</text>"##,
        yb = T + ph,
        lx = tx + 4.0,
        ly = T + 12.0,
        th = esc(lb.threshold),
        cmp = esc(c.comparator()),
        tv = fmt_num(c.threshold),
    );
    legend(&mut out, lb);
    out.push_str("</svg>");
    out
}

fn legend(out: &mut String, lb: &Labels) {
    let x = W - R - 150.0;
    for (k, (name, colour)) in [(lb.linked, LINKED), (lb.unlinked, UNLINKED)]
        .into_iter()
        .enumerate()
    {
        let y = T + 26.0 + 16.0 * k as f64;
        let _ = write!(
            out,
            r##"<rect x="{x}" y="{ry}" width="10" height="10" fill="{colour}" fill-opacity="0.55"/><text x="{tx}" y="{ty}">{n}</text>"##,
            ry = y - 9.0,
            tx = x + 14.0,
            ty = y,
            n = esc(name)
        );
    }
}

/// The chosen method's ROC curve with the operating point at the stated false-link rate.
pub fn roc(c: &Calibration, lb: &Labels) -> String {
    let mut out = String::new();
    open(
        &mut out,
        &format!("{} — {} (AUC {:.4})", lb.roc, c.method, c.auc),
    );
    axes(
        &mut out,
        0.0,
        1.0,
        lb.false_link_rate,
        lb.true_link_rate,
        1.0,
    );
    let (pw, ph) = (W - L - R, H - T - B);
    let px = |f: f64| L + f * pw;
    let py = |t: f64| T + ph - t * ph;
    let _ = write!(
        out,
        r##"<line x1="{x0}" y1="{y0}" x2="{x1}" y2="{y1}" stroke="#999" stroke-dasharray="3 3"/><text x="{tx:.1}" y="{ty:.1}" fill="#777">{ch}</text>"##,
        x0 = px(0.0),
        y0 = py(0.0),
        x1 = px(1.0),
        y1 = py(1.0),
        tx = px(0.7),
        ty = py(0.62),
        ch = esc(lb.chance)
    );
    let points: Vec<String> = c
        .roc
        .iter()
        .map(|(f, t)| format!("{:.1},{:.1}", px(*f), py(*t)))
        .collect();
    let _ = write!(
        out,
        r##"<polyline points="{}" fill="none" stroke="{LINKED}" stroke-width="2"/><circle cx="{:.1}" cy="{:.1}" r="4" fill="#000"/><text x="{:.1}" y="{:.1}">{} {:.2}% → {:.1}%</text>"##,
        points.join(" "),
        px(c.false_link_rate),
        py(c.true_link_rate),
        px(c.false_link_rate) + 8.0,
        py(c.true_link_rate) + 14.0,
        esc(lb.threshold),
        100.0 * c.false_link_rate,
        100.0 * c.true_link_rate,
    );
    out.push_str("</svg>");
    out
}

/// A self-contained HTML report of a calibration (`rastro forensics calibrate --report`).
pub fn report_html(c: &Calibration, lang: &str) -> String {
    let lb = Labels::for_lang(lang);
    let es = lang.starts_with("es");
    let mut rows = String::new();
    for k in &c.candidates {
        let _ = write!(
            rows,
            "<tr><td>{}</td><td>{:.4}</td><td>{:.1}%</td><td>{}</td></tr>",
            esc(&k.method.to_string()),
            k.auc,
            100.0 * k.true_link_rate,
            fmt_num(k.threshold)
        );
    }
    let (title, method, refs, head) = if es {
        (
            "Calibración de perfiles de impurezas",
            "Método elegido",
            "Pares de referencia",
            "<th>Método</th><th>AUC</th><th>Vínculos verdaderos a la tasa declarada</th><th>Umbral</th>",
        )
    } else {
        (
            "Impurity-profile calibration",
            "Chosen method",
            "Reference pairs",
            "<th>Method</th><th>AUC</th><th>True links at the stated rate</th><th>Threshold</th>",
        )
    };
    format!(
        "<!doctype html><html lang=\"{lang}\"><head><meta charset=\"utf-8\"><title>{title}</title></head><body><h1>{title}</h1>\
<p>{method}: <b>{m}</b>; {th} {cmp} {t}; {flr} {fr:.2}% ({stated:.2}%); {tlr} {tr:.1}%; AUC {auc:.4}.</p>\
<p>{refs}: {nl} / {nu} ({ns} samples).</p>{d}{r}<table border=\"1\" cellpadding=\"4\"><tr>{head}</tr>{rows}</table></body></html>",
        lang = if es { "es" } else { "en" },
        m = esc(&c.method.to_string()),
        th = lb.threshold,
        cmp = esc(c.comparator()),
        t = fmt_num(c.threshold),
        flr = lb.false_link_rate,
        fr = 100.0 * c.false_link_rate,
        stated = 100.0 * c.stated_false_link_rate,
        tlr = lb.true_link_rate,
        tr = 100.0 * c.true_link_rate,
        auc = c.auc,
        nl = c.linked_pairs,
        nu = c.unlinked_pairs,
        ns = c.reference_samples,
        d = distributions(c, lb),
        r = roc(c, lb),
    )
}
