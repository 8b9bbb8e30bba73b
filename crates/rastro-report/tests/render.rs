//! The printed package: self-contained, escaped, fully in its language.

mod support;

use rastro_report::i18n::{w, Lang, WORDS};
use rastro_report::package_html;

#[test]
fn a_package_is_self_contained_escaped_and_translated() {
    for lang in ["es", "en"] {
        let html = package_html(&support::package(60, lang));
        // Nothing is loaded from anywhere: no scripts, no links, no external URLs.
        for banned in [
            "<script",
            "src=",
            "href=",
            "url(",
            "@import",
            "http://www.",
            "https://",
        ] {
            assert!(!html.contains(banned), "{lang}: the page holds {banned:?}");
        }
        // Record text is escaped wherever it appears.
        assert!(html.contains("rec-0&lt;script&gt;"));
        assert!(html.contains("Químicos &quot;del&quot; &lt;Pacífico&gt;"));
        assert!(html.contains("6 kinds &lt;b&gt;near&lt;/b&gt; Culiacán"));
        // Every lookup found its word: no raw key is left on the page.
        for prefix in ["kind.", "typ.", "st.", "pap.", "rel.", "cred."] {
            assert!(
                !html.contains(&format!(">{prefix}")),
                "{lang}: raw key {prefix}… on the page"
            );
        }
        assert!(html.contains("TLP:AMBER REL TO MX"));
        assert!(
            html.contains("2026-03-01 00:15 UTC"),
            "dates are written for people"
        );
    }
    let es = package_html(&support::package(10, "es"));
    let en = package_html(&support::package(10, "en"));
    assert!(
        es.contains("Alerta: Desvío de ruta") && en.contains("Alert: Route deviation"),
        "hit rates by typology"
    );
    assert!(
        es.contains("Paquete de inteligencia")
            && es.contains("Desvío de ruta")
            && es.contains("usualmente confiable / probablemente cierta")
    );
    assert!(
        en.contains("Intelligence package")
            && en.contains("Route deviation")
            && en.contains("usually reliable / probably true")
    );
    assert!(es.contains("<html lang=\"es\">") && en.contains("<html lang=\"en\">"));
}

#[test]
fn every_word_has_both_languages() {
    for (k, es, en) in WORDS {
        assert!(!es.is_empty() && !en.is_empty(), "{k}");
        assert_eq!(w(Lang::Es, k), *es);
        assert_eq!(w(Lang::En, k), *en);
    }
    let mut keys: Vec<&str> = WORDS.iter().map(|(k, _, _)| *k).collect();
    keys.sort_unstable();
    let n = keys.len();
    keys.dedup();
    assert_eq!(keys.len(), n, "a key is listed twice");
}
