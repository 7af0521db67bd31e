//! The audit log tab: every record of the case's hash-chained log, newest last.

use crate::store::AuditRecord;

/// Shows the audit records (read by the app, which owns the case).
pub fn show(ui: &mut egui::Ui, records: Result<&[AuditRecord], &str>) {
    match records {
        Ok(records) => {
            egui::ScrollArea::vertical().auto_shrink(false).show_rows(
                ui,
                18.0,
                records.len(),
                |ui, range| {
                    for r in &records[range] {
                        ui.label(format!(
                            "{:>5}  {}  {:<12} {:<20} {} · {}",
                            r.seq, r.time_utc, r.category, r.action, r.actor_analyst, r.purpose
                        ));
                    }
                },
            );
        }
        Err(e) => {
            ui.colored_label(ui.visuals().error_fg_color, e);
        }
    }
}
