//! The chart's style: what colours and sizes the nodes, the colours themselves (per type,
//! community, value, grade and person category) and the legend.

use super::draw::Palette;
use crate::model::PersonCategory;
use egui::{Color32, Pos2, Rect, Vec2};

/// How nodes are coloured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum ColourBy {
    #[default]
    Type,
    /// The communities of the active analysis result.
    Community,
    /// The values of the active analysis result, low blue to high red.
    AnalysisValue,
    /// The source reliability of the entity's grading.
    Grade,
    PersonCategory,
}

impl ColourBy {
    pub const ALL: [ColourBy; 5] = [
        ColourBy::Type,
        ColourBy::Community,
        ColourBy::AnalysisValue,
        ColourBy::Grade,
        ColourBy::PersonCategory,
    ];

    pub fn label(self) -> &'static str {
        match self {
            ColourBy::Type => "Type",
            ColourBy::Community => "Community",
            ColourBy::AnalysisValue => "Analysis value",
            ColourBy::Grade => "Grade (source)",
            ColourBy::PersonCategory => "Person category",
        }
    }
}

/// The chart's style options.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct GraphStyle {
    pub colour_by: ColourBy,
    /// Size nodes by the active analysis result.
    pub size_by_analysis: bool,
    /// Draw parallel links as one line with a count (else one line per link, side by side).
    pub summarise_parallel: bool,
    /// Draw calls, messages and payments as lines between their participants (one line per
    /// pair, with the count, following the time filter).
    pub show_events: bool,
    pub show_legend: bool,
}

impl Default for GraphStyle {
    fn default() -> Self {
        GraphStyle {
            colour_by: ColourBy::Type,
            size_by_analysis: true,
            summarise_parallel: true,
            show_events: false,
            show_legend: true,
        }
    }
}

/// A stable colour for an entity type: distinct fixed colours for the built-in types, a
/// hashed palette colour for user-defined ones.
pub fn type_colour(entity_type: &str) -> Color32 {
    match entity_type {
        "Person" => return Color32::from_rgb(214, 120, 60),
        "Organization" => return Color32::from_rgb(150, 100, 200),
        "Phone" => return Color32::from_rgb(60, 150, 220),
        "Email" => return Color32::from_rgb(90, 190, 190),
        "Address" => return Color32::from_rgb(140, 150, 110),
        "Location" => return Color32::from_rgb(60, 170, 110),
        "Vehicle" => return Color32::from_rgb(200, 170, 40),
        "BankAccount" => return Color32::from_rgb(200, 80, 110),
        "Device" => return Color32::from_rgb(110, 130, 200),
        "Document" => return Color32::from_rgb(160, 140, 120),
        "OnlineAccount" => return Color32::from_rgb(190, 110, 180),
        "Weapon" => return Color32::from_rgb(220, 60, 50),
        _ => {}
    }
    const PALETTE: [Color32; 10] = [
        Color32::from_rgb(86, 156, 214),
        Color32::from_rgb(214, 157, 86),
        Color32::from_rgb(106, 190, 120),
        Color32::from_rgb(200, 100, 120),
        Color32::from_rgb(160, 120, 210),
        Color32::from_rgb(90, 190, 190),
        Color32::from_rgb(200, 200, 90),
        Color32::from_rgb(150, 150, 150),
        Color32::from_rgb(230, 120, 60),
        Color32::from_rgb(120, 160, 60),
    ];
    let h = entity_type
        .bytes()
        .fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b)));
    PALETTE[h as usize % PALETTE.len()]
}

/// How many communities get a colour of their own; the rest are grey (said in the legend).
pub const DISTINCT_COLOURS: usize = 20;

/// Twenty colours told apart easily (Kelly's list without white and black, and the grey kept
/// for "other"), so neighbouring communities do not look alike.
const DISTINCT: [Color32; DISTINCT_COLOURS] = [
    Color32::from_rgb(255, 179, 0),
    Color32::from_rgb(128, 62, 117),
    Color32::from_rgb(255, 104, 0),
    Color32::from_rgb(166, 189, 215),
    Color32::from_rgb(193, 0, 32),
    Color32::from_rgb(206, 162, 98),
    Color32::from_rgb(0, 125, 52),
    Color32::from_rgb(246, 118, 142),
    Color32::from_rgb(0, 83, 138),
    Color32::from_rgb(255, 122, 92),
    Color32::from_rgb(83, 55, 122),
    Color32::from_rgb(255, 142, 0),
    Color32::from_rgb(179, 40, 81),
    Color32::from_rgb(244, 200, 0),
    Color32::from_rgb(127, 24, 13),
    Color32::from_rgb(147, 170, 0),
    Color32::from_rgb(89, 51, 21),
    Color32::from_rgb(241, 58, 19),
    Color32::from_rgb(35, 44, 22),
    Color32::from_rgb(0, 161, 194),
];

/// The colour of the community ranked `rank` by size (0 the largest).
pub(super) fn community_colour(rank: u32) -> Color32 {
    DISTINCT[rank as usize % DISTINCT_COLOURS]
}

/// Low values blue, high values red.
pub(super) fn gradient(t: f32) -> Color32 {
    let t = t.clamp(0.0, 1.0);
    Color32::from_rgb(
        (60.0 + 195.0 * t) as u8,
        (110.0 + 40.0 * (1.0 - (2.0 * t - 1.0).abs())) as u8,
        (220.0 - 180.0 * t) as u8,
    )
}

pub(super) fn reliability_colour(letter: Option<char>) -> (&'static str, Color32) {
    match letter {
        Some('A') => ("A: completely reliable", Color32::from_rgb(40, 160, 70)),
        Some('B') => ("B: usually reliable", Color32::from_rgb(120, 190, 60)),
        Some('C') => ("C: fairly reliable", Color32::from_rgb(220, 200, 50)),
        Some('D') => ("D: not usually reliable", Color32::from_rgb(230, 140, 40)),
        Some('E') => ("E: unreliable", Color32::from_rgb(210, 60, 50)),
        Some(_) => ("another grade", Color32::from_rgb(150, 150, 170)),
        None => ("ungraded", Color32::from_gray(140)),
    }
}

pub(super) fn category_colour(c: Option<PersonCategory>) -> (&'static str, Color32) {
    match c {
        Some(PersonCategory::Suspect) => ("suspect", Color32::from_rgb(210, 60, 60)),
        Some(PersonCategory::Victim) => ("victim", Color32::from_rgb(70, 130, 220)),
        Some(PersonCategory::Witness) => ("witness", Color32::from_rgb(60, 170, 90)),
        Some(PersonCategory::Contact) => ("contact", Color32::from_rgb(220, 150, 50)),
        Some(PersonCategory::Other) => ("other", Color32::from_rgb(150, 120, 190)),
        Some(PersonCategory::Unknown) | None => ("unknown / not a person", Color32::from_gray(140)),
    }
}

/// The legend's width on screen; Fit keeps the chart clear of it.
pub const LEGEND_WIDTH: f32 = 210.0;
/// Rows the legend lists at most (then "and N more").
const LEGEND_ROWS: usize = 16;

/// Draws the legend as a boxed panel in the chart's lower left corner: the title, each class
/// with its colour and count (or the range of a continuous value as a gradient bar).
pub(super) fn draw_legend(
    painter: &egui::Painter,
    rect: Rect,
    legend: &super::display::Legend,
    palette: &Palette,
) -> Option<Rect> {
    if legend.is_empty() {
        return None;
    }
    let row = 16.0;
    let shown = &legend.entries[..legend.entries.len().min(LEGEND_ROWS)];
    let more = legend.entries.len() - shown.len();
    let rows = 1 + shown.len() + usize::from(more > 0) + 2 * usize::from(legend.range.is_some());
    let height = row * rows as f32 + 10.0;
    let origin = Pos2::new(rect.left() + 8.0, rect.bottom() - height - 8.0);
    let frame = Rect::from_min_size(origin, Vec2::new(LEGEND_WIDTH, height));
    painter.rect_filled(frame, 4.0, palette.background.gamma_multiply(0.92));
    painter.rect_stroke(
        frame,
        4.0,
        egui::Stroke::new(1.0, palette.text.gamma_multiply(0.35)),
        egui::StrokeKind::Inside,
    );
    let font = egui::FontId::proportional(11.0);
    let mut y = origin.y + 5.0 + row * 0.5;
    painter.text(
        Pos2::new(origin.x + 8.0, y),
        egui::Align2::LEFT_CENTER,
        &legend.title,
        egui::FontId::proportional(12.0),
        palette.text,
    );
    for entry in shown {
        y += row;
        painter.circle_filled(Pos2::new(origin.x + 14.0, y), 5.0, entry.colour);
        painter.text(
            Pos2::new(origin.x + 26.0, y),
            egui::Align2::LEFT_CENTER,
            &entry.label,
            font.clone(),
            palette.text,
        );
        painter.text(
            Pos2::new(frame.right() - 8.0, y),
            egui::Align2::RIGHT_CENTER,
            entry.count.to_string(),
            font.clone(),
            palette.text,
        );
    }
    if more > 0 {
        y += row;
        painter.text(
            Pos2::new(origin.x + 26.0, y),
            egui::Align2::LEFT_CENTER,
            format!("and {more} more"),
            font.clone(),
            palette.text,
        );
    }
    if let Some((name, low, high)) = &legend.range {
        y += row;
        let bar = Rect::from_min_size(
            Pos2::new(origin.x + 8.0, y - 4.0),
            Vec2::new(LEGEND_WIDTH - 16.0, 8.0),
        );
        let steps = 24;
        for k in 0..steps {
            let t = k as f32 / (steps - 1) as f32;
            let w = bar.width() / steps as f32;
            painter.rect_filled(
                Rect::from_min_size(
                    Pos2::new(bar.left() + w * k as f32, bar.top()),
                    Vec2::new(w + 0.5, bar.height()),
                ),
                0.0,
                gradient(t),
            );
        }
        y += row;
        painter.text(
            Pos2::new(origin.x + 8.0, y),
            egui::Align2::LEFT_CENTER,
            format!("{name}: {low:.4}"),
            font.clone(),
            palette.text,
        );
        painter.text(
            Pos2::new(frame.right() - 8.0, y),
            egui::Align2::RIGHT_CENTER,
            format!("{high:.4}"),
            font,
            palette.text,
        );
    }
    Some(frame)
}
