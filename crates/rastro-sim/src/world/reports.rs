//! Reports (tips, seizures, equipment purchases) and laboratory truth.

#![allow(clippy::too_many_arguments)]

use super::*;

impl World<'_> {
    pub(super) fn report(
        &mut self,
        kind: ReportKind,
        originator: &str,
        marking: Marking,
        t_ms: i64,
        pos: Option<Position>,
        grade: (char, u8),
        subjects: Vec<String>,
        summary: &str,
        qty: Option<f64>,
        profile: Vec<f64>,
    ) -> Result<String, SimError> {
        self.report_count += 1;
        let id = format!("SYN-R-{:06}", self.report_count);
        let r = Report {
            id: id.clone(),
            originator: originator.into(),
            marking,
            report_kind: kind,
            time_ms: t_ms,
            position: pos,
            reliability: grade.0,
            credibility: grade.1,
            subjects,
            summary: summary.into(),
            quantity_kg: qty,
            profile,
            valid_until_ms: None,
            precision_m: None,
        };
        self.out.record(&Record::Report(r))?;
        Ok(id)
    }

    /// A tip (FGR, TLP:RED) at `p` with an Admiralty grade drawn from `grades`: true tips near
    /// labs get good grades, false ones mostly poor.
    pub(super) fn tip(
        &mut self,
        t_ms: i64,
        p: Position,
        grades: &[(char, u8)],
    ) -> Result<String, SimError> {
        let tip_texts = [
            "Olor químico fuerte por las noches en la cuadra",
            "Entran y salen camionetas a deshoras",
            "Vecinos reportan tambos y ventanas tapiadas",
            "Compra frecuente de garrafones de solventes",
        ];
        let grade = *grades.choose(&mut self.rng).unwrap_or(&('F', 6));
        let text = *tip_texts.choose(&mut self.rng).unwrap_or(&"");
        self.report(
            ReportKind::Tip,
            "FGR",
            // Named recipients: the host nation's agencies at the fusion centre.
            m(Tlp::Red, &["MX"]),
            t_ms,
            Some(p),
            grade,
            vec![],
            text,
            None,
            vec![],
        )
    }

    pub(super) fn random_time(&mut self, from: i64, to: i64) -> i64 {
        from + (self.rng.random::<f64>() * (to - from).max(1) as f64) as i64
    }

    pub(super) fn urban_random(&mut self) -> Position {
        let c = self.weighted_city(false);
        let r = self.g.urban_radius_m(c);
        self.g.urban_point(
            c,
            self.rng.random_range(0.0..360.0),
            self.rng.random_range(0.0..0.9) * r,
        )
    }

    pub(super) fn reports(&mut self) -> Result<(), SimError> {
        let rc = self.cfg.reports.clone();
        let end = self.start_ms + self.period_ms();
        let routes = forensics::routes(&mut self.frng);
        let chems: Vec<forensics::LabChem> = (0..self.labs.len())
            .map(|l| {
                let r = &routes[l % routes.len()];
                forensics::LabChem::new(r, rc.batches_per_lab, &self.cfg.forensics, &mut self.frng)
            })
            .collect();
        for (l, chem) in chems.into_iter().enumerate() {
            let (pos, from) = (self.labs[l].pos, self.labs[l].from_ms);
            for _ in 0..rc.true_tips_per_lab {
                let t = self.random_time(from, end);
                let p = destination(
                    pos,
                    self.rng.random_range(0.0..360.0),
                    self.rng.random_range(30.0..300.0),
                );
                self.tip(t, p, &[('B', 2), ('C', 2), ('C', 3), ('B', 3)])?;
            }
            for _ in 0..rc.equipment_per_lab {
                let t = self.random_time(from, end);
                let p = destination(
                    pos,
                    self.rng.random_range(0.0..360.0),
                    self.rng.random_range(50.0..600.0),
                );
                self.report(
                    ReportKind::EquipmentPurchase,
                    "UIF",
                    m(Tlp::Amber, &[]),
                    t,
                    Some(p),
                    ('B', 2),
                    vec![],
                    "Compra de prensa de tabletas y rotavapor",
                    None,
                    vec![],
                )?;
            }
            let lab_id = self.labs[l].id.clone();
            for s in 0..rc.seizures_per_lab {
                let batch = s as usize % chem.batches();
                let t = self.random_time(from, end);
                let border = [
                    "Tijuana",
                    "Mexicali",
                    "Ciudad Juárez",
                    "Nuevo Laredo",
                    "Reynosa",
                    "Matamoros",
                ];
                let city = border
                    .get(self.rng.random_range(0..border.len()))
                    .and_then(|n| self.g.cities.iter().position(|c| c.name == *n))
                    .unwrap_or(0);
                let p = self.g.urban_point(
                    city,
                    self.rng.random_range(0.0..360.0),
                    self.rng.random_range(0.0..5000.0),
                );
                let rid = self.seizure_report(t, p)?;
                Out::truth(
                    &mut self.out.truth.seizures,
                    &serde_json::json!({"truth_kind": "seizure", "report": rid, "lab": lab_id, "batch": format!("{lab_id}-B{batch}")}),
                )?;
                self.seizure_samples(&rid, &chem, &lab_id, batch, t)?;
            }
            // Street seizures in the lab's own city, 2-10 km from it.
            for s in 0..self.cfg.forensics.local_seizures_per_lab {
                let batch = s as usize % chem.batches();
                let t = from + (self.frng.random::<f64>() * (end - from) as f64) as i64;
                let p = destination(
                    pos,
                    self.frng.random_range(0.0..360.0),
                    self.frng.random_range(2000.0..10_000.0),
                );
                let rid = self.seizure_report(t, p)?;
                Out::truth(
                    &mut self.out.truth.seizures,
                    &serde_json::json!({"truth_kind": "seizure", "report": rid, "lab": lab_id, "batch": format!("{lab_id}-B{batch}"), "local": true}),
                )?;
                self.seizure_samples(&rid, &chem, &lab_id, batch, t)?;
            }
        }
        self.forensic_background(&routes)?;
        let false_tips =
            (self.cfg.consignments as f64 * rc.false_tips_per_100 / 100.0).round() as usize;
        for _ in 0..false_tips {
            let t = self.random_time(self.start_ms, end);
            let p = self.urban_random();
            self.tip(
                t,
                p,
                &[('D', 4), ('E', 5), ('C', 4), ('F', 6), ('C', 3), ('D', 3)],
            )?;
        }
        let legit_eq =
            (self.cfg.consignments as f64 * rc.legit_equipment_per_100 / 100.0).round() as usize;
        let mut idx: Vec<usize> = (0..self.sites.len()).collect();
        idx.shuffle(&mut self.rng);
        for s in idx.into_iter().take(legit_eq) {
            let t = self.random_time(self.start_ms, end);
            let p = self.sites[s].pos;
            let e = self.sites[s].entity;
            let subj = self.entities[e]
                .records
                .first()
                .cloned()
                .into_iter()
                .collect();
            self.report(
                ReportKind::EquipmentPurchase,
                "UIF",
                m(Tlp::Amber, &[]),
                t,
                Some(p),
                ('B', 2),
                subj,
                "Compra de equipo de laboratorio",
                None,
                vec![],
            )?;
        }
        Ok(())
    }

    pub(super) fn lab_truth(&mut self) -> Result<(), SimError> {
        for l in &self.labs {
            let cell =
                rastro_core::grid::cell(l.pos.lat, l.pos.lon, 9).map(rastro_core::grid::to_string);
            let v = serde_json::json!({
                "truth_kind": "lab",
                "lab": l.id,
                "city": self.g.cities[l.city].name,
                "lat": l.pos.lat,
                "lon": l.pos.lon,
                "h3_res9": cell,
                "active_from": rastro_core::format_time_ms(l.from_ms),
                "active_to": rastro_core::format_time_ms(l.to_ms),
                "fed_by": l.fed_by,
            });
            Out::truth(&mut self.out.truth.labs, &v)?;
        }
        Ok(())
    }
}
