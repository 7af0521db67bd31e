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

/// A colour per community number, distinct for the first dozen.
pub(super) fn community_colour(c: u32) -> Color32 {
    let hue = (c as f32 * 0.618_034).fract();
    egui::ecolor::Hsva::new(hue, 0.65, 0.85, 1.0).into()
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

pub(super) fn reliability_colour(letter: Option<char>) -> (String, Color32) {
    match letter {
        Some('A') => (
            "A: completely reliable".into(),
            Color32::from_rgb(40, 160, 70),
        ),
        Some('B') => (
            "B: usually reliable".into(),
            Color32::from_rgb(120, 190, 60),
        ),
        Some('C') => ("C: fairly reliable".into(), Color32::from_rgb(220, 200, 50)),
        Some('D') => (
            "D: not usually reliable".into(),
            Color32::from_rgb(230, 140, 40),
        ),
        Some('E') => ("E: unreliable".into(), Color32::from_rgb(210, 60, 50)),
        Some(c) => (format!("{c}"), Color32::from_rgb(150, 150, 170)),
        None => ("ungraded".into(), Color32::from_gray(140)),
    }
}

pub(super) fn category_colour(c: Option<PersonCategory>) -> (String, Color32) {
    match c {
        Some(PersonCategory::Suspect) => ("suspect".into(), Color32::from_rgb(210, 60, 60)),
        Some(PersonCategory::Victim) => ("victim".into(), Color32::from_rgb(70, 130, 220)),
        Some(PersonCategory::Witness) => ("witness".into(), Color32::from_rgb(60, 170, 90)),
        Some(PersonCategory::Contact) => ("contact".into(), Color32::from_rgb(220, 150, 50)),
        Some(PersonCategory::Other) => ("other".into(), Color32::from_rgb(150, 120, 190)),
        Some(PersonCategory::Unknown) | None => {
            ("unknown / not a person".into(), Color32::from_gray(140))
        }
    }
}

/// Draws the legend in the chart's lower left corner.
pub(super) fn draw_legend(
    painter: &egui::Painter,
    rect: Rect,
    legend: &[(String, Color32)],
    palette: &Palette,
) {
    if legend.is_empty() {
        return;
    }
    let shown = &legend[..legend.len().min(14)];
    let row = 16.0;
    let height = row * shown.len() as f32 + 8.0;
    let origin = Pos2::new(rect.left() + 8.0, rect.bottom() - height - 8.0);
    let width = 190.0;
    painter.rect_filled(
        Rect::from_min_size(origin, Vec2::new(width, height)),
        4.0,
        palette.background.gamma_multiply(0.85),
    );
    for (k, (name, colour)) in shown.iter().enumerate() {
        let y = origin.y + 4.0 + row * (k as f32 + 0.5);
        painter.circle_filled(Pos2::new(origin.x + 10.0, y), 5.0, *colour);
        painter.text(
            Pos2::new(origin.x + 22.0, y),
            egui::Align2::LEFT_CENTER,
            name,
            egui::FontId::proportional(11.0),
            palette.text,
        );
    }
}
