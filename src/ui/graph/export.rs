//! Exports the chart as it is on screen: SVG written from the display model (vector, with the
//! same icons, link styles and labels), and PNG from a screenshot of the view.

use super::draw::{Camera, DisplayModel, EdgeKind, NODE_RADIUS, Palette};
use super::icons::ICONS;
use crate::model::LinkStrength;
use egui::{Color32, Pos2};
use std::fmt::Write as _;

fn hex(c: Color32) -> String {
    format!("#{:02x}{:02x}{:02x}", c.r(), c.g(), c.b())
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The inside of an icon file, for a `<symbol>`.
fn icon_body(svg: &str) -> &str {
    let start = svg.find('>').map_or(0, |i| i + 1);
    let end = svg.rfind("</svg>").unwrap_or(svg.len());
    svg.get(start..end).unwrap_or("")
}

/// The chart within the camera's view as an SVG document.
pub fn to_svg(model: &DisplayModel, camera: &Camera, palette: &Palette, title: &str) -> String {
    let (w, h) = (camera.rect.width(), camera.rect.height());
    let world = camera.world_rect();
    let in_view = |i: usize| {
        let p = model.pos[i];
        model.shown[i] && world.contains(Pos2::new(p[0], p[1]))
    };
    let local = |i: usize| {
        let p = camera.to_screen(model.pos[i]) - camera.rect.min;
        (p.x, p.y)
    };
    let mut out = String::new();
    let _ = writeln!(
        out,
        r#"<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="{w:.0}" height="{h:.0}" viewBox="0 0 {w:.0} {h:.0}">
<title>{}</title>
<defs>
<marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="{}"/></marker>"#,
        escape(title),
        hex(palette.link)
    );
    for (key, svg) in ICONS {
        let _ = writeln!(
            out,
            r#"<symbol id="icon-{key}" viewBox="0 0 24 24">{}</symbol>"#,
            icon_body(svg).trim()
        );
    }
    let _ = writeln!(
        out,
        r#"</defs>
<rect width="100%" height="100%" fill="{}"/>"#,
        hex(palette.background)
    );

    out.push_str("<g id=\"links\" fill=\"none\">\n");
    for e in &model.edges {
        let (a, b) = (e.a as usize, e.b as usize);
        if !(model.shown[a] && model.shown[b]) || !(in_view(a) || in_view(b)) {
            continue;
        }
        let ((x1, y1), (x2, y2)) = (local(a), local(b));
        let colour = match e.kind {
            EdgeKind::Link => palette.link,
            EdgeKind::Event => palette.event_link,
        };
        let dash = match e.strength {
            LinkStrength::Confirmed => "",
            LinkStrength::Tentative => r#" stroke-dasharray="7 4""#,
            LinkStrength::Unconfirmed => r#" stroke-dasharray="1.5 3" stroke-linecap="round""#,
        };
        let arrow = if e.directed {
            r#" marker-end="url(#arrow)""#
        } else {
            ""
        };
        let opacity = if e.faded { 0.15 } else { 1.0 };
        let _ = writeln!(
            out,
            r#"<line x1="{x1:.1}" y1="{y1:.1}" x2="{x2:.1}" y2="{y2:.1}" stroke="{}" stroke-width="1.4" stroke-opacity="{opacity}"{dash}{arrow}/>"#,
            hex(colour)
        );
        if e.count > 1 {
            let _ = writeln!(
                out,
                r#"<text x="{:.1}" y="{:.1}" font-size="10" font-family="sans-serif" fill="{}" text-anchor="middle">×{}</text>"#,
                (x1 + x2) / 2.0,
                (y1 + y2) / 2.0 - 4.0,
                hex(palette.text),
                e.count
            );
        }
    }
    out.push_str("</g>\n<g id=\"entities\">\n");
    for i in (0..model.len()).filter(|&i| in_view(i)) {
        let (x, y) = local(i);
        let r = (NODE_RADIUS * model.scale[i] * camera.zoom).clamp(3.0, 30.0);
        let opacity = if model.faded[i] { 0.15 } else { 1.0 };
        let icon = ICONS
            .get(model.icon[i] as usize)
            .map_or("unknown", |(k, _)| k);
        let _ = writeln!(
            out,
            r##"<g opacity="{opacity}"><circle cx="{x:.1}" cy="{y:.1}" r="{r:.1}" fill="{}"/><use xlink:href="#icon-{icon}" href="#icon-{icon}" x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}"/>"##,
            hex(model.colour[i]),
            x - r * 0.625,
            y - r * 0.625,
            r * 1.25,
            r * 1.25
        );
        if model.selected[i] {
            let _ = writeln!(
                out,
                r#"<circle cx="{x:.1}" cy="{y:.1}" r="{:.1}" fill="none" stroke="{}" stroke-width="2.5"/>"#,
                r + 3.0,
                hex(palette.selected)
            );
        }
        let _ = writeln!(
            out,
            r#"<text x="{x:.1}" y="{:.1}" font-size="11" font-family="sans-serif" fill="{}" text-anchor="middle">{}</text></g>"#,
            y + r + 11.0,
            hex(palette.text),
            escape(&model.label[i])
        );
    }
    out.push_str("</g>\n</svg>\n");
    out
}

/// Encodes an RGBA image as PNG.
pub fn png_bytes(image: &egui::ColorImage) -> Result<Vec<u8>, png::EncodingError> {
    let mut bytes = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut bytes, image.size[0] as u32, image.size[1] as u32);
        encoder.set_color(png::ColorType::Rgba);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header()?;
        writer.write_image_data(image.as_raw())?;
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ui::graph::draw::DisplayEdge;
    use egui::{Rect, Vec2};

    fn model() -> DisplayModel {
        DisplayModel {
            pos: vec![[0.0, 0.0], [50.0, 0.0], [0.0, 50.0], [5000.0, 5000.0]],
            shown: vec![true, true, true, true],
            colour: vec![Color32::RED; 4],
            scale: vec![1.0; 4],
            faded: vec![false, false, true, false],
            selected: vec![true, false, false, false],
            pinned: vec![false; 4],
            icon: vec![1, 3, 0, 1],
            label: vec!["A & B".into(), "<b>".into(), "C".into(), "far".into()],
            importance: vec![0.0; 4],
            edges: vec![
                DisplayEdge {
                    a: 0,
                    b: 1,
                    count: 1,
                    strength: LinkStrength::Tentative,
                    directed: true,
                    kind: EdgeKind::Link,
                    lane: 0,
                    faded: false,
                },
                DisplayEdge {
                    a: 0,
                    b: 2,
                    count: 12,
                    strength: LinkStrength::Confirmed,
                    directed: false,
                    kind: EdgeKind::Event,
                    lane: 0,
                    faded: false,
                },
            ],
        }
    }

    #[test]
    fn svg_holds_what_is_in_view_with_styles_and_escaped_labels() {
        let camera = Camera {
            rect: Rect::from_min_size(Pos2::ZERO, Vec2::new(400.0, 300.0)),
            center: Vec2::new(25.0, 25.0),
            zoom: 2.0,
            min_radius: 1.5,
        };
        let svg = to_svg(&model(), &camera, &Palette::new(false), "Case <1>");
        // Well-formed XML.
        let mut reader = quick_xml::Reader::from_str(&svg);
        let mut elements = 0;
        loop {
            match reader.read_event() {
                Ok(quick_xml::events::Event::Eof) => break,
                Ok(quick_xml::events::Event::Start(_) | quick_xml::events::Event::Empty(_)) => {
                    elements += 1
                }
                Ok(_) => {}
                Err(e) => panic!("not well-formed: {e}\n{svg}"),
            }
        }
        assert!(elements > 10);
        // Three entities in view, the far one left out.
        assert_eq!(svg.matches("<use ").count(), 3);
        assert!(!svg.contains(">far<"));
        assert!(svg.contains("A &amp; B") && svg.contains("&lt;b&gt;"));
        assert!(
            svg.contains(r#"stroke-dasharray="7 4""#),
            "tentative is dashed"
        );
        assert!(svg.contains("marker-end"), "directed has an arrow");
        assert!(svg.contains("×12"), "summarised events show their count");
        assert!(svg.contains(r#"<symbol id="icon-person""#));
    }

    #[test]
    fn png_round_trips_its_size() {
        let image = egui::ColorImage::new([7, 5], vec![Color32::BLUE; 35]);
        let bytes = png_bytes(&image).unwrap();
        let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
        let reader = decoder.read_info().unwrap();
        assert_eq!((reader.info().width, reader.info().height), (7, 5));
    }
}
