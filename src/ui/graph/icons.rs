//! One icon per entity type, from the SVG files in assets/icons (white glyphs, so one texture
//! serves every colour). They are rasterised once with resvg and uploaded as textures; the
//! SVG export embeds the same files.

use egui::{ColorImage, TextureHandle, TextureId, TextureOptions};

/// (icon key, SVG source), in the order of [`icon_index`].
pub const ICONS: &[(&str, &str)] = &[
    ("unknown", include_str!("../../../assets/icons/unknown.svg")),
    ("person", include_str!("../../../assets/icons/person.svg")),
    (
        "organization",
        include_str!("../../../assets/icons/organization.svg"),
    ),
    ("phone", include_str!("../../../assets/icons/phone.svg")),
    ("email", include_str!("../../../assets/icons/email.svg")),
    ("address", include_str!("../../../assets/icons/address.svg")),
    (
        "location",
        include_str!("../../../assets/icons/location.svg"),
    ),
    ("vehicle", include_str!("../../../assets/icons/vehicle.svg")),
    (
        "bank_account",
        include_str!("../../../assets/icons/bank_account.svg"),
    ),
    ("device", include_str!("../../../assets/icons/device.svg")),
    (
        "document",
        include_str!("../../../assets/icons/document.svg"),
    ),
    (
        "online_account",
        include_str!("../../../assets/icons/online_account.svg"),
    ),
    ("weapon", include_str!("../../../assets/icons/weapon.svg")),
    (
        "collection",
        include_str!("../../../assets/icons/collection.svg"),
    ),
];

/// The index of the collection icon.
pub const COLLECTION: u8 = 13;

/// The index of an icon key in [`ICONS`] (`unknown` for keys without a file).
pub fn icon_index(key: &str) -> u8 {
    ICONS
        .iter()
        .position(|(k, _)| *k == key)
        .map_or(0, |i| i as u8)
}

/// Pixel size icons are rasterised at: sharp up to the largest node size drawn.
const RASTER: u32 = 64;

/// Rasterises one SVG to a square image.
pub fn rasterise(svg: &str, size: u32) -> Option<ColorImage> {
    let tree =
        resvg::usvg::Tree::from_data(svg.as_bytes(), &resvg::usvg::Options::default()).ok()?;
    let mut pixmap = resvg::tiny_skia::Pixmap::new(size, size)?;
    let scale = size as f32 / tree.size().width().max(tree.size().height());
    resvg::render(
        &tree,
        resvg::tiny_skia::Transform::from_scale(scale, scale),
        &mut pixmap.as_mut(),
    );
    Some(ColorImage::from_rgba_premultiplied(
        [size as usize, size as usize],
        pixmap.data(),
    ))
}

/// The uploaded icon textures.
#[derive(Default)]
pub struct IconTextures {
    handles: Vec<Option<TextureHandle>>,
}

impl std::fmt::Debug for IconTextures {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "IconTextures({} loaded)", self.handles.len())
    }
}

impl IconTextures {
    /// Uploads the icons on first use.
    pub fn ensure(&mut self, ctx: &egui::Context) {
        if !self.handles.is_empty() {
            return;
        }
        self.handles = ICONS
            .iter()
            .map(|(key, svg)| {
                let image = rasterise(svg, RASTER);
                if image.is_none() {
                    tracing::warn!("the icon '{key}' could not be drawn; showing a plain disc");
                }
                image.map(|i| ctx.load_texture(format!("icon-{key}"), i, TextureOptions::LINEAR))
            })
            .collect();
    }

    pub fn texture(&self, index: u8) -> Option<TextureId> {
        self.handles
            .get(index as usize)
            .and_then(|h| h.as_ref().map(TextureHandle::id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The core's list of bundled icons (what custom types may use) is the set drawn here,
    /// less the collection node's own icon.
    #[test]
    fn the_bundled_icon_list_matches_the_icon_files() {
        let drawn: Vec<&str> = ICONS
            .iter()
            .map(|(k, _)| *k)
            .filter(|k| *k != "collection")
            .collect();
        assert_eq!(drawn, crate::model::BUNDLED_ICONS);
    }

    #[test]
    fn every_builtin_type_has_an_icon_that_renders() {
        let schema = crate::model::Schema::default();
        for def in &schema.entity_types {
            let key = schema.icon(&def.key);
            assert_ne!(icon_index(key), 0, "{} has no icon file", def.key);
        }
        for (key, svg) in ICONS {
            let image = rasterise(svg, 32).unwrap_or_else(|| panic!("{key} does not render"));
            let opaque = image.pixels.iter().filter(|p| p.a() > 128).count();
            assert!(opaque > 32 * 32 / 10, "{key} is nearly empty");
        }
    }
}
