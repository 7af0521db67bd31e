//! Entity, link and event tables (i2's "List Items", Gephi's Data Laboratory): virtualised,
//! so only visible rows are laid out; sortable by any column; filtered by the shared filters,
//! search and time filter; click selects, ctrl-click adds to the selection.

use super::{Action, ViewState, grade_text, time_text};
use crate::model::ItemRef;
use crate::store::CaseSnapshot;
use egui_extras::{Column, TableBuilder};
use std::sync::Arc;

/// Which table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TableKind {
    Entities,
    Links,
    Events,
}

/// Sorting and the cached row order of one table.
#[derive(Debug, Default)]
pub struct TableState {
    sort_column: usize,
    descending: bool,
    cache_key: Option<(u64, String)>,
    rows: Vec<usize>,
}

const ROW_HEIGHT: f32 = 20.0;

fn columns(kind: TableKind) -> &'static [&'static str] {
    match kind {
        TableKind::Entities => &[
            "id",
            "type",
            "label",
            "source id",
            "category",
            "grading",
            "attributes",
        ],
        TableKind::Links => &["id", "type", "from", "to", "strength", "weight", "grading"],
        TableKind::Events => &[
            "id",
            "type",
            "time (UTC)",
            "participants",
            "grading",
            "source",
        ],
    }
}

/// The text of one cell (also what sorting and search use).
fn cell(case: &CaseSnapshot, kind: TableKind, row: usize, column: usize) -> String {
    let label = |id| {
        case.entity(id)
            .map_or_else(|| format!("{id}"), |e| e.label.clone())
    };
    match kind {
        TableKind::Entities => {
            let e = &case.entities[row];
            match column {
                0 => e.id.0.to_string(),
                1 => e.entity_type.clone(),
                2 => format!(
                    "{}{}",
                    e.label,
                    if e.restricted { " [restricted]" } else { "" }
                ),
                3 => e.source_id.clone().unwrap_or_default(),
                4 => e
                    .category
                    .map(|c| c.as_str().to_string())
                    .unwrap_or_default(),
                5 => grade_text(e.grading.as_ref()),
                _ => e.attributes.len().to_string(),
            }
        }
        TableKind::Links => {
            let l = &case.links[row];
            match column {
                0 => l.id.0.to_string(),
                1 => l.link_type.clone(),
                2 => label(l.source),
                3 => label(l.target),
                4 => l.strength.as_str().to_string(),
                5 => l.weight.map(|w| w.to_string()).unwrap_or_default(),
                _ => grade_text(l.grading.as_ref()),
            }
        }
        TableKind::Events => {
            let ev = &case.events[row];
            match column {
                0 => ev.id.0.to_string(),
                1 => ev.event_type.clone(),
                2 => time_text(ev.time.start_ms),
                3 => ev
                    .participants
                    .iter()
                    .map(|p| format!("{} {}", p.role.as_str(), label(p.entity)))
                    .collect::<Vec<_>>()
                    .join(", "),
                4 => grade_text(ev.grading.as_ref()),
                _ => ev.provenance.to_string(),
            }
        }
    }
}

fn item(case: &CaseSnapshot, kind: TableKind, row: usize) -> ItemRef {
    match kind {
        TableKind::Entities => ItemRef::Entity(case.entities[row].id),
        TableKind::Links => ItemRef::Link(case.links[row].id),
        TableKind::Events => ItemRef::Event(case.events[row].id),
    }
}

/// The rows that pass the filters, in display order.
pub fn filtered_rows(
    case: &CaseSnapshot,
    kind: TableKind,
    view: &ViewState,
    sort_column: usize,
    descending: bool,
) -> Vec<usize> {
    let f = &view.filters;
    let grade = f.grade(case);
    let n = match kind {
        TableKind::Entities => case.entities.len(),
        TableKind::Links => case.links.len(),
        TableKind::Events => case.events.len(),
    };
    let mut rows: Vec<usize> = (0..n)
        .filter(|&i| match kind {
            TableKind::Entities => f.entity_passes(grade.as_ref(), &case.entities[i]),
            TableKind::Links => {
                let l = &case.links[i];
                f.passes(grade.as_ref(), l.grading.as_ref(), l.restricted)
                    && f.matches_search([l.link_type.as_str(), l.label.as_deref().unwrap_or("")])
            }
            TableKind::Events => {
                let ev = &case.events[i];
                view.time_filter
                    .is_none_or(|(a, b)| ev.time.start_ms >= a && ev.time.start_ms < b)
                    && f.passes(grade.as_ref(), ev.grading.as_ref(), ev.restricted)
                    && f.matches_search(
                        [ev.event_type.as_str()]
                            .into_iter()
                            .chain(ev.attributes.iter().map(|a| a.value.as_str())),
                    )
            }
        })
        .collect();
    if let Some(a) = view
        .analysis_column
        .as_ref()
        .filter(|_| kind == TableKind::Entities && sort_column == columns(kind).len())
    {
        let value = |r: usize| {
            a.values
                .get(&case.entities[r].id)
                .copied()
                .unwrap_or(f64::NEG_INFINITY)
        };
        rows.sort_by(|&x, &y| value(x).total_cmp(&value(y)).then(x.cmp(&y)));
        if descending {
            rows.reverse();
        }
        return rows;
    }
    if sort_column == 0 {
        // Rows are stored by id already.
        if descending {
            rows.reverse();
        }
    } else {
        let numeric = matches!(
            (kind, sort_column),
            (TableKind::Entities, 6) | (TableKind::Links, 5)
        );
        let mut keyed: Vec<(String, f64, usize)> = rows
            .into_iter()
            .map(|r| {
                let text = cell(case, kind, r, sort_column);
                let num = if numeric {
                    text.parse().unwrap_or(f64::NEG_INFINITY)
                } else {
                    0.0
                };
                (text.to_lowercase(), num, r)
            })
            .collect();
        keyed.sort_by(|a, b| {
            a.1.total_cmp(&b.1)
                .then_with(|| a.0.cmp(&b.0))
                .then(a.2.cmp(&b.2))
        });
        if descending {
            keyed.reverse();
        }
        rows = keyed.into_iter().map(|k| k.2).collect();
    }
    rows
}

/// Shows one table and returns what the user asked for.
pub fn show(
    ui: &mut egui::Ui,
    case: &CaseSnapshot,
    kind: TableKind,
    view: &ViewState,
    state: &mut TableState,
) -> Vec<Action> {
    let mut actions = Vec::new();
    let key = (
        case.generation,
        format!(
            "{:?}{:?}{}{}{:?}",
            view.filters,
            view.time_filter,
            state.sort_column,
            state.descending,
            view.analysis_column.as_ref().map(Arc::as_ptr)
        ),
    );
    if state.cache_key.as_ref() != Some(&key) {
        state.rows = filtered_rows(case, kind, view, state.sort_column, state.descending);
        state.cache_key = Some(key);
    }
    let mut names: Vec<String> = columns(kind).iter().map(|s| (*s).to_string()).collect();
    let analysis = view
        .analysis_column
        .clone()
        .filter(|_| kind == TableKind::Entities);
    if let Some(a) = &analysis {
        names.push(a.name.clone());
    }
    let total = match kind {
        TableKind::Entities => case.entities.len(),
        TableKind::Links => case.links.len(),
        TableKind::Events => case.events.len(),
    };
    ui.weak(format!(
        "{} of {} shown · click to select, ctrl-click to add",
        state.rows.len(),
        total
    ));
    let mut table = TableBuilder::new(ui)
        .id_salt(format!("{kind:?}"))
        .striped(true)
        .resizable(true)
        .sense(egui::Sense::click())
        .cell_layout(egui::Layout::left_to_right(egui::Align::Center));
    for (i, _) in names.iter().enumerate() {
        table = table.column(if i == 0 {
            Column::initial(60.0)
        } else {
            Column::initial(140.0).clip(true)
        });
    }
    let mut clicked_sort = None;
    table
        .header(ROW_HEIGHT + 4.0, |mut header| {
            for (i, name) in names.iter().enumerate() {
                header.col(|ui| {
                    let arrow = if state.sort_column == i {
                        if state.descending { " v" } else { " ^" }
                    } else {
                        ""
                    };
                    if ui.button(format!("{name}{arrow}")).clicked() {
                        clicked_sort = Some(i);
                    }
                });
            }
        })
        .body(|body| {
            body.rows(ROW_HEIGHT, state.rows.len(), |mut row| {
                let r = state.rows[row.index()];
                let it = item(case, kind, r);
                row.set_selected(view.selection.contains(&it));
                let mut clicked = false;
                for c in 0..names.len() {
                    let (_rect, cell_response) = row.col(|ui| {
                        // The text senses clicks too, so a click anywhere on the row selects.
                        let text_value = match (&analysis, c == names.len() - 1) {
                            (Some(a), true) => a
                                .values
                                .get(&case.entities[r].id)
                                .map(|v| format!("{v:.6}"))
                                .unwrap_or_default(),
                            _ => cell(case, kind, r, c),
                        };
                        let text = egui::Label::new(text_value)
                            .selectable(false)
                            .sense(egui::Sense::click());
                        clicked |= ui.add(text).clicked();
                    });
                    clicked |= cell_response.clicked();
                }
                let response = row.response();
                if clicked || response.clicked() {
                    let additive = response.ctx.input(|i| i.modifiers.command);
                    actions.push(Action::Select { item: it, additive });
                }
            });
        });
    if let Some(c) = clicked_sort {
        if state.sort_column == c {
            state.descending = !state.descending;
        } else {
            state.sort_column = c;
            state.descending = false;
        }
        state.cache_key = None;
    }
    actions
}
