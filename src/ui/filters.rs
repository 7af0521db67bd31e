//! The filter panel on the left: search (ctrl-f), entity type, person category, grade
//! threshold, attribute, hide restricted; the filters every view applies.

use super::ViewState;
use crate::model::PersonCategory;
use crate::store::CaseSnapshot;

/// Shows the filters; `focus_search` asks to focus the search field (ctrl-f) once.
pub fn show(ui: &mut egui::Ui, case: &CaseSnapshot, view: &mut ViewState, focus_search: &mut bool) {
    ui.heading("Filters");
    let label = ui.label("Search (ctrl-f)");
    let search = ui
        .text_edit_singleline(&mut view.filters.search)
        .labelled_by(label.id);
    if std::mem::take(focus_search) {
        search.request_focus();
    }
    // Each control under its label, as the other filters are (a combo box's own label would
    // stand beside it and repeat the one above).
    let label = ui.label("Entity type");
    let current = view
        .filters
        .entity_type
        .clone()
        .unwrap_or_else(|| "all".into());
    egui::ComboBox::from_id_salt("type-filter")
        .selected_text(current)
        .show_ui(ui, |ui| {
            ui.selectable_value(&mut view.filters.entity_type, None, "all");
            for t in &case.schema.entity_types {
                ui.selectable_value(&mut view.filters.entity_type, Some(t.key.clone()), &t.label);
            }
        })
        .response
        .labelled_by(label.id);
    let label = ui.label("Person category");
    let current = view.filters.category.map_or("all", |c| c.as_str());
    egui::ComboBox::from_id_salt("category-filter")
        .selected_text(current)
        .show_ui(ui, |ui| {
            ui.selectable_value(&mut view.filters.category, None, "all");
            for c in PersonCategory::ALL {
                ui.selectable_value(&mut view.filters.category, Some(c), c.as_str());
            }
        })
        .response
        .labelled_by(label.id);
    let label = ui.label(format!("Grade at least ({})", case.default_scheme));
    ui.add(egui::TextEdit::singleline(&mut view.filters.min_grade).hint_text("e.g. B2"))
        .labelled_by(label.id);
    if !view.filters.min_grade.trim().is_empty() && view.filters.grade(case).is_none() {
        ui.colored_label(ui.visuals().warn_fg_color, "not a grade of this scheme");
    }
    let label = ui.label("Attribute (property, value contains)");
    ui.horizontal(|ui| {
        ui.add(
            egui::TextEdit::singleline(&mut view.filters.attribute)
                .hint_text("nationality")
                .desired_width(90.0),
        )
        .labelled_by(label.id);
        ui.add(
            egui::TextEdit::singleline(&mut view.filters.attribute_value)
                .hint_text("value")
                .desired_width(90.0),
        )
        .labelled_by(label.id);
    });
    ui.checkbox(&mut view.filters.hide_restricted, "Hide restricted items");
    ui.separator();
    ui.label(format!("{} selected", view.selection.len()));
    if let Some((a, b)) = view.time_filter {
        ui.label(format!(
            "Time: {} – {}",
            super::time_text(a),
            super::time_text(b)
        ));
    }
}
