//! The PNG chart of the result tables: one panel per (setting, metric), a bar per
//! scored row, the chance level of CLS as a line. Drawn with plotters' bitmap backend
//! into a buffer and encoded by `image`; text uses the Ubuntu font that egui bundles
//! (`epaint_default_fonts`), so no system fonts are needed.

use std::path::Path;

use plotters::coord::ranged1d::SegmentValue;
use plotters::prelude::*;
use plotters::style::{FontStyle, register_font};

use super::EvalError;
use super::table::{EvalReport, Row, SetTable};

const FONT: &str = "sans-serif";
const PANEL_WIDTH_PX: u32 = 400;
const PANEL_HEIGHT_PX: u32 = 400;

/// Reads one metric from a row.
type Metric = fn(&Row) -> Option<f64>;

/// The metrics drawn, with how to read them from a row.
const METRICS: [(&str, Metric); 4] = [
    ("BLEU-4", |r| r.bleu4),
    ("CIDEr-D", |r| r.cider),
    ("OSS", |r| r.oss),
    ("CLS", |r| r.cls),
];

/// Bar colours: baselines grey, ablations blue, the full model orange.
fn colour(row: &Row) -> RGBColor {
    match row.key.as_str() {
        "generic" => RGBColor(150, 150, 150),
        "trivial" => RGBColor(90, 90, 90),
        "full" => RGBColor(230, 120, 30),
        _ => RGBColor(70, 120, 190),
    }
}

fn chart_error(path: &Path, e: impl std::fmt::Display) -> EvalError {
    EvalError::Chart {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

fn short_label(key: &str) -> &'static str {
    super::methods::all_methods()
        .into_iter()
        .find(|m| m.key() == key)
        .map_or("?", super::methods::Method::short)
}

fn panel(
    area: &DrawingArea<BitMapBackend<'_>, plotters::coord::Shift>,
    set: &SetTable,
    metric: &str,
    value: Metric,
) -> Result<(), Box<dyn std::error::Error>> {
    let n = set.rows.len();
    let top = set
        .rows
        .iter()
        .filter_map(value)
        .chain(
            set.rows
                .iter()
                .filter_map(|r| r.cls_chance.filter(|_| metric == "CLS")),
        )
        .fold(0.0f64, f64::max)
        .max(0.05)
        * 1.15;
    let setting = match set.setting {
        super::sets::Setting::Seen => "seen",
        super::sets::Setting::Unseen => "unseen",
    };
    let mut chart = ChartBuilder::on(area)
        .caption(format!("{metric} ({setting})"), (FONT, 20))
        .margin(8)
        .x_label_area_size(36)
        .y_label_area_size(44)
        .build_cartesian_2d((0..n).into_segmented(), 0f64..top)?;
    let labels: Vec<&'static str> = set.rows.iter().map(|r| short_label(&r.key)).collect();
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(n)
        .x_label_formatter(&|x| match x {
            SegmentValue::CenterOf(i) => labels.get(*i).copied().unwrap_or("").to_owned(),
            _ => String::new(),
        })
        .x_label_style((FONT, 13))
        .y_label_style((FONT, 13))
        .draw()?;
    chart.draw_series(set.rows.iter().enumerate().filter_map(|(i, row)| {
        value(row).map(|v| {
            let mut bar = Rectangle::new(
                [
                    (SegmentValue::Exact(i), 0.0),
                    (SegmentValue::Exact(i + 1), v),
                ],
                colour(row).filled(),
            );
            bar.set_margin(0, 0, 4, 4);
            bar
        })
    }))?;
    if metric == "CLS"
        && let Some(chance) = set.rows.iter().find_map(|r| r.cls_chance)
    {
        chart.draw_series(std::iter::once(PathElement::new(
            vec![
                (SegmentValue::Exact(0), chance),
                (SegmentValue::Exact(n), chance),
            ],
            RED.stroke_width(2),
        )))?;
    }
    Ok(())
}

/// Draws the chart of `report` into a PNG at `path`.
pub fn write_chart(report: &EvalReport, path: &Path) -> Result<(), EvalError> {
    register_font(FONT, FontStyle::Normal, epaint_default_fonts::UBUNTU_LIGHT)
        .map_err(|_| chart_error(path, "the bundled font could not be read"))?;
    let sets = report.sets.len().max(1);
    let width = PANEL_WIDTH_PX * METRICS.len() as u32;
    let height = PANEL_HEIGHT_PX * sets as u32;
    let mut buffer = vec![255u8; (width * height * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut buffer, (width, height)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| chart_error(path, e))?;
        let panels = root.split_evenly((sets, METRICS.len()));
        for (s, set) in report.sets.iter().enumerate() {
            for (m, (name, value)) in METRICS.iter().enumerate() {
                panel(&panels[s * METRICS.len() + m], set, name, *value)
                    .map_err(|e| chart_error(path, e))?;
            }
        }
        root.present().map_err(|e| chart_error(path, e))?;
    }
    let image = image::RgbImage::from_raw(width, height, buffer)
        .ok_or_else(|| chart_error(path, "the drawing buffer has the wrong size"))?;
    image.save(path).map_err(|e| chart_error(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::methods::Method;
    use crate::eval::sets::Setting;
    use crate::eval::table::{NOT_TRAINED, SCORED};

    #[test]
    fn the_chart_is_a_png_with_a_panel_per_setting_and_metric_and_coloured_bars() {
        let scored = |m: Method, v: f64| Row {
            bleu4: Some(v),
            cider: Some(v * 3.0),
            oss: Some(v),
            cls: Some(v),
            cls_chance: Some(0.25),
            hc: Some(0.1),
            ..Row::missing(m, SCORED)
        };
        let set = |setting| SetTable {
            setting,
            title: "t".into(),
            subjects: 2,
            queries: 2,
            rows: vec![
                scored(Method::Generic, 0.2),
                Row::missing(Method::Deper("no-film"), NOT_TRAINED),
                scored(Method::Deper("full"), 0.6),
            ],
            human_hc: 0.1,
            human_rep3: 0.0,
            human_grounding: Default::default(),
        };
        let report = EvalReport {
            model: "m".into(),
            data: "d".into(),
            shots: 5,
            beam_width: 1,
            sets: vec![set(Setting::Seen), set(Setting::Unseen)],
        };
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("chart.png");
        write_chart(&report, &path).unwrap();
        let png = image::open(&path).unwrap().to_rgb8();
        assert_eq!(png.dimensions(), (1600, 800));
        let orange = png.pixels().filter(|p| p.0 == [230, 120, 30]).count();
        assert!(
            orange > 1000,
            "the full model's bars are drawn ({orange} px)"
        );
        let red = png.pixels().filter(|p| p.0 == [255, 0, 0]).count();
        assert!(red > 100, "the CLS chance line is drawn");
    }
}
