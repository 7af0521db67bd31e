//! The workbench's views. A view reads the snapshot and the shared view state and returns
//! [`Action`]s; it never changes the case itself. The app applies actions once per frame.

pub mod analysis;
pub mod audit;
pub mod commands;
pub mod editor;
pub mod export_dialog;
pub mod filters;
pub mod graph;
pub mod import;
pub mod inspector;
pub mod review;
pub mod tables;
pub mod timeline;
pub mod truth;

use crate::model::{EntityId, Grade, Grading, GradingScheme, ItemRef, PersonCategory};
use crate::store::{CaseSnapshot, Command};
use std::collections::BTreeSet;

/// What a view asks the app to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Select one item; `additive` toggles it in the current selection (ctrl-click).
    Select {
        item: ItemRef,
        additive: bool,
    },
    SetTimeFilter(Option<(i64, i64)>),
    /// Apply a store command (an edit, a merge, ...).
    Apply(Box<Command>),
    /// Apply a store command that creates items by hand; entities it makes go on the chart,
    /// at this position (layout units) when given.
    Create {
        command: Box<Command>,
        at: Option<[f32; 2]>,
    },
    /// Open an editing window (new entity, link or event; types, schemes, snapshots).
    Open(editor::Open),
    /// Keep the chart as it is now under a name, with the case.
    SaveChartSnapshot(String),
    /// Put the chart back as a named snapshot kept it.
    RestoreChartSnapshot(crate::model::ChartSnapshotId),
    Run(commands::UiCommand),
    /// Run a layout of the graph view as a job (the force layout streams its positions).
    RunLayout(graph::LayoutRequest),
    /// A chart operation of the graph view (add to chart from a panel drawn outside its
    /// painter), applied by the view's state at the end of the frame.
    GraphOp(graph::GraphOp),
    /// Add to the chart the shortest path between two entities (found in a job).
    AddPath(EntityId, EntityId),
    /// Stop the running layout.
    StopLayout,
    /// Run an analysis component as a job, on the whole case or on a part of it.
    RunAnalysis {
        component: String,
        params: crate::analysis::Params,
        scope: analysis::Scope,
    },
    /// Run an analysis chain (TOML text, named by its file) as one job, on a scope.
    RunChain {
        file: String,
        text: String,
        scope: analysis::Scope,
    },
    /// Save or open a chain file (the chain editor; the app shows the file dialogs).
    ChainFile(analysis::chain_editor::ChainFileRequest),
    /// Replace the selection with these items (box selection, expand; empty clears).
    SelectMany(Vec<ItemRef>),
    /// The item under the pointer in any view.
    Hover(Option<ItemRef>),
    /// The graph view changed its chart (hide, pin, expand, collapse, move): an undo step.
    ChartChanged,
    /// Export the graph view as it is on screen.
    ExportChart {
        svg: bool,
    },
    /// Write an exported chart image (encoded by the view) and record the disclosure.
    SaveChartImage {
        path: std::path::PathBuf,
        bytes: Vec<u8>,
    },
    /// Show an error to the user.
    Error(String),
    /// Record a consultation in the audit log (a decision that changes no evidence).
    Record {
        action: String,
        details: serde_json::Value,
    },
    /// Erase a batch or items for good (the review tab, after its confirmation).
    Purge {
        target: crate::store::PurgeTarget,
        reason: String,
    },
}

/// The selection and filters every view shares.
#[derive(Debug, Clone, Default)]
pub struct ViewState {
    pub selection: BTreeSet<ItemRef>,
    pub hovered: Option<ItemRef>,
    /// UTC milliseconds, inclusive start and exclusive end.
    pub time_filter: Option<(i64, i64)>,
    pub filters: Filters,
    /// The latest per-entity analysis result, shown as a table column.
    pub analysis_column: Option<std::sync::Arc<analysis::AnalysisColumn>>,
}

impl ViewState {
    /// The selected entities, in id order.
    pub fn selected_entities(&self) -> Vec<EntityId> {
        self.selection
            .iter()
            .filter_map(|i| match i {
                ItemRef::Entity(id) => Some(*id),
                _ => None,
            })
            .collect()
    }

    /// The item the inspector shows: the most recently selected... the first in id order.
    pub fn focus(&self) -> Option<ItemRef> {
        self.selection.iter().next().copied()
    }
}

/// Filters set in the left panel.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filters {
    pub search: String,
    pub entity_type: Option<String>,
    pub category: Option<PersonCategory>,
    /// "B2" = only items graded at least that well.
    pub min_grade: String,
    pub hide_restricted: bool,
    /// Only entities with a value of this property (`nationality`, `imei`, ...)...
    pub attribute: String,
    /// ...containing this text (any value when empty).
    pub attribute_value: String,
}

impl Filters {
    /// The parsed grade threshold, if one is set and valid.
    pub fn grade(&self, case: &CaseSnapshot) -> Option<(GradingScheme, Grade)> {
        if self.min_grade.trim().is_empty() {
            return None;
        }
        let scheme = case.scheme(&case.default_scheme)?;
        let grade = scheme.parse_grade(&self.min_grade).ok()?;
        Some((scheme.clone(), grade))
    }

    /// Whether an item with this grading and flag passes the grade and restricted filters.
    pub fn passes(
        &self,
        grade: Option<&(GradingScheme, Grade)>,
        grading: Option<&Grading>,
        restricted: bool,
    ) -> bool {
        if self.hide_restricted && restricted {
            return false;
        }
        match grade {
            Some((scheme, g)) => scheme.meets(grading, g),
            None => true,
        }
    }

    /// Whether an entity passes the type, category, grade, restricted and search filters (the
    /// search looks at the label, the source id, the values and the analyst's notes).
    pub fn entity_passes(
        &self,
        grade: Option<&(GradingScheme, Grade)>,
        e: &crate::model::Entity,
    ) -> bool {
        self.entity_type
            .as_ref()
            .is_none_or(|t| &e.entity_type == t)
            && self.category.is_none_or(|c| e.category == Some(c))
            && self.passes(grade, e.grading.as_ref(), e.restricted)
            && self.attribute_matches(&e.attributes)
            && self.matches_search(
                [e.label.as_str(), e.source_id.as_deref().unwrap_or("")]
                    .into_iter()
                    .chain(e.attributes.iter().map(|a| a.value.as_str()))
                    .chain(e.notes.iter().map(|n| n.text.as_str())),
            )
    }

    /// Whether the attributes pass the attribute filter (property and value text).
    pub fn attribute_matches(&self, attributes: &[crate::model::Attribute]) -> bool {
        let key = self.attribute.trim();
        if key.is_empty() {
            return true;
        }
        let value = self.attribute_value.trim().to_lowercase();
        attributes.iter().any(|a| {
            a.property.eq_ignore_ascii_case(key)
                && (value.is_empty() || a.value.to_lowercase().contains(&value))
        })
    }

    /// Case-insensitive search over the given texts.
    pub fn matches_search<'a>(&self, texts: impl IntoIterator<Item = &'a str>) -> bool {
        let needle = self.search.trim().to_lowercase();
        needle.is_empty()
            || texts
                .into_iter()
                .any(|t| t.to_lowercase().contains(&needle))
    }
}

/// "B2 OPEN" or "ungraded": ungraded is always shown as ungraded, never as a default.
pub fn grade_text(grading: Option<&Grading>) -> String {
    match grading {
        Some(g) => g.to_string(),
        None => "ungraded".into(),
    }
}

/// A UTC time as "2024-03-01 14:05".
pub fn time_text(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_else(|| format!("{ms} ms"))
}
