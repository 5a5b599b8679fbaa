//! Official documents as Word files (.docx), laid out per GB/T 9704-2012 《党政机关公文格式》:
//! A4; margins 37 / 35 / 28 / 26 mm (top, bottom, left, right) for a 156 × 225 mm text block;
//! title in 方正小标宋简体 二号 centred; body in 仿宋_GB2312 三号 with a fixed line pitch of 22
//! lines a page and 28 characters a line; headings in 黑体 (一、) and 楷体_GB2312 (（一）);
//! the issuing office and date right-aligned at the end; page numbers "— 1 —" in 宋体 四号.
//! A reader without these fonts substitutes its own (the fonts are named with their Latin
//! companions, Times New Roman for 仿宋 and 楷体, Arial for 黑体). Bulletins, notices, pledges
//! and certificates are written with this one writer.

use std::io::Cursor;

use docx_rs::{
    AlignmentType, BreakType, Docx, FieldCharType, Footer, InstrPAGE, InstrText, LineSpacing, LineSpacingType, PageMargin, Paragraph, Pic,
    Run, RunFonts, Shading, SpecialIndentType, Table, TableCell, TableLayoutType, TableRow, VAlignType, WidthType,
};

use super::ExportError;

/// Font names as the standard gives them.
pub const TITLE_FONT: &str = "方正小标宋简体";
pub const BODY_FONT: &str = "仿宋_GB2312";
pub const HEADING_FONT: &str = "黑体";
pub const SUBHEADING_FONT: &str = "楷体_GB2312";
pub const PAGE_NUMBER_FONT: &str = "宋体";

/// Twentieths of a point per millimetre.
const TWIPS_PER_MM: f64 = 56.692_913;
/// English Metric Units per millimetre.
const EMU_PER_MM: f64 = 36_000.0;
/// The text block: 156 mm wide.
const TEXT_WIDTH_MM: f64 = 156.0;
/// 225 mm ÷ 22 lines.
const LINE_PITCH_TWIPS: i32 = 579;
/// 三号 = 16 pt, in half-points.
const BODY_SIZE: usize = 32;
/// 二号 = 22 pt.
const TITLE_SIZE: usize = 44;
/// Tables and captions in 四号 = 14 pt … 小四 = 12 pt.
const TABLE_SIZE: usize = 24;
const CAPTION_SIZE: usize = 24;
const PAGE_NUMBER_SIZE: usize = 28;
/// Widest and tallest a photo is printed.
const PHOTO_MAX_W_MM: f64 = 120.0;
const PHOTO_MAX_H_MM: f64 = 90.0;
/// Photos are re-encoded at most this many pixels wide.
const PHOTO_MAX_PX: u32 = 900;

/// One part of a document's body.
#[derive(Debug, Clone)]
pub enum Block {
    /// 一级标题 (一、…) in 黑体.
    Heading(String),
    /// 二级标题 (（一）…) in 楷体.
    Subheading(String),
    /// A body paragraph, first line indented two characters.
    Paragraph(String),
    /// A table: column titles, relative widths, rows.
    Table {
        columns: Vec<String>,
        widths: Vec<u32>,
        rows: Vec<Vec<String>>,
    },
    /// A photo (JPEG, PNG or WebP bytes) with its caption under it.
    Photo {
        bytes: Vec<u8>,
        caption: String,
    },
    /// A line saying a photo could not be shown (it is gone from the store).
    Missing(String),
    PageBreak,
}

/// A document: title, the line under it (the number), the body, the issuing office and date.
#[derive(Debug, Clone)]
pub struct OfficialDoc {
    pub paper: Paper,
    pub title: String,
    pub subtitle: Option<String>,
    pub blocks: Vec<Block>,
    pub issuer: String,
    pub date: String,
}

/// The sheet a document is printed on: A4 for documents, A3 for what is posted (红黑榜).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Paper {
    #[default]
    A4,
    A3,
}

impl Paper {
    /// Width and height in twips.
    fn size(self) -> (u32, u32) {
        match self {
            Paper::A4 => (11_906, 16_838),
            Paper::A3 => (16_838, 23_811),
        }
    }

    /// The text block's width: the sheet less the standard's side margins (28 + 26 mm).
    fn text_width_mm(self) -> f64 {
        match self {
            Paper::A4 => TEXT_WIDTH_MM,
            Paper::A3 => 297.0 - 54.0,
        }
    }
}

fn fonts(east_asia: &str, latin: &str) -> RunFonts {
    RunFonts::new().east_asia(east_asia).ascii(latin).hi_ansi(latin).cs(latin)
}

fn body_run(text: &str) -> Run {
    Run::new().add_text(text).size(BODY_SIZE).fonts(fonts(BODY_FONT, "Times New Roman"))
}

fn pitch() -> LineSpacing {
    LineSpacing::new().line_rule(LineSpacingType::Exact).line(LINE_PITCH_TWIPS)
}

fn mm_twips(mm: f64) -> i32 {
    (mm * TWIPS_PER_MM).round() as i32
}

/// A photo decoded and re-encoded as PNG (what the writer embeds), at most `PHOTO_MAX_PX`
/// wide; `None` when the bytes are not a picture.
pub fn png_for_document(bytes: &[u8]) -> Option<(Vec<u8>, u32, u32)> {
    let img = image::load_from_memory(bytes).ok()?;
    let img = if img.width() > PHOTO_MAX_PX { img.resize(PHOTO_MAX_PX, u32::MAX, image::imageops::FilterType::Triangle) } else { img };
    let rgb = img.to_rgb8();
    let mut out = Cursor::new(Vec::new());
    rgb.write_to(&mut out, image::ImageFormat::Png).ok()?;
    Some((out.into_inner(), rgb.width(), rgb.height()))
}

fn table(columns: &[String], widths: &[u32], rows: &[Vec<String>], text_width_mm: f64) -> Table {
    let total: u32 = widths.iter().sum::<u32>().max(1);
    let width_twips = mm_twips(text_width_mm) as u32;
    let grid: Vec<usize> =
        (0..columns.len()).map(|i| (widths.get(i).copied().unwrap_or(1) as u64 * width_twips as u64 / total as u64) as usize).collect();
    // The header row keeps with the first row below it: a table never starts at a page's foot.
    let cell = |text: &str, w: usize, head: bool| {
        let mut run = Run::new().add_text(text).size(TABLE_SIZE);
        run = if head { run.bold().fonts(fonts(HEADING_FONT, "Arial")) } else { run.fonts(fonts(BODY_FONT, "Times New Roman")) };
        let mut c = TableCell::new()
            .width(w, WidthType::Dxa)
            .vertical_align(VAlignType::Center)
            .add_paragraph(Paragraph::new().align(AlignmentType::Center).keep_next(head).add_run(run));
        if head {
            c = c.shading(Shading::new().fill("E7E7E7"));
        }
        c
    };
    let head = TableRow::new(columns.iter().zip(&grid).map(|(t, w)| cell(t, *w, true)).collect()).cant_split();
    let mut all = vec![head];
    for r in rows {
        all.push(
            TableRow::new(grid.iter().enumerate().map(|(i, w)| cell(r.get(i).map(String::as_str).unwrap_or(""), *w, false)).collect())
                .cant_split(),
        );
    }
    Table::new(all)
        .set_grid(grid)
        .width(width_twips as usize, WidthType::Dxa)
        .layout(TableLayoutType::Fixed)
        .align(docx_rs::TableAlignmentType::Center)
}

/// Writes the document.
pub fn write(doc: &OfficialDoc) -> Result<Vec<u8>, ExportError> {
    let margin = PageMargin::new()
        .top(mm_twips(37.0))
        .bottom(mm_twips(35.0))
        .left(mm_twips(28.0))
        .right(mm_twips(26.0))
        .header(mm_twips(15.0))
        .footer(mm_twips(20.0));
    let page_number = Paragraph::new().align(AlignmentType::Center).add_run(
        Run::new()
            .size(PAGE_NUMBER_SIZE)
            .fonts(fonts(PAGE_NUMBER_FONT, "Times New Roman"))
            .add_text("— ")
            .add_field_char(FieldCharType::Begin, false)
            .add_instr_text(InstrText::PAGE(InstrPAGE::new()))
            .add_field_char(FieldCharType::Separate, false)
            .add_text("1")
            .add_field_char(FieldCharType::End, false)
            .add_text(" —"),
    );
    let mut d = Docx::new()
        .page_size(doc.paper.size().0, doc.paper.size().1)
        .page_margin(margin)
        .default_fonts(fonts(BODY_FONT, "Times New Roman"))
        .default_size(BODY_SIZE)
        .footer(Footer::new().add_paragraph(page_number));
    // Title (centred, 小标宋 二号), with a blank line of body pitch after the subtitle.
    d = d.add_paragraph(
        Paragraph::new()
            .align(AlignmentType::Center)
            .line_spacing(LineSpacing::new().line_rule(LineSpacingType::Exact).line(700))
            .add_run(Run::new().add_text(&doc.title).size(TITLE_SIZE).fonts(fonts(TITLE_FONT, "Times New Roman"))),
    );
    if let Some(s) = &doc.subtitle {
        d = d.add_paragraph(Paragraph::new().align(AlignmentType::Center).line_spacing(pitch()).add_run(body_run(s)));
    }
    d = d.add_paragraph(Paragraph::new().line_spacing(pitch()));
    let indent = Some(SpecialIndentType::FirstLine(640));
    // The last paragraph keeps with the signature: 署名 and date never stand alone on a page.
    let last_paragraph = doc.blocks.iter().rposition(|b| matches!(b, Block::Paragraph(_)));
    for (i, b) in doc.blocks.iter().enumerate() {
        d = match b {
            Block::Heading(t) => d.add_paragraph(
                Paragraph::new()
                    .keep_next(true)
                    .line_spacing(pitch())
                    .indent(None, indent, None, None)
                    .add_run(Run::new().add_text(t).size(BODY_SIZE).fonts(fonts(HEADING_FONT, "Arial"))),
            ),
            Block::Subheading(t) => d.add_paragraph(
                Paragraph::new()
                    .keep_next(true)
                    .line_spacing(pitch())
                    .indent(None, indent, None, None)
                    .add_run(Run::new().add_text(t).size(BODY_SIZE).fonts(fonts(SUBHEADING_FONT, "Times New Roman"))),
            ),
            Block::Paragraph(t) => d.add_paragraph(
                Paragraph::new()
                    .line_spacing(pitch())
                    .indent(None, indent, None, None)
                    .widow_control(true)
                    .keep_next(Some(i) == last_paragraph)
                    .add_run(body_run(t)),
            ),
            Block::Table { columns, widths, rows } => d
                .add_table(table(columns, widths, rows, doc.paper.text_width_mm()))
                .add_paragraph(Paragraph::new().line_spacing(LineSpacing::new().after(120))),
            Block::Photo { bytes, caption } => match png_for_document(bytes) {
                Some((png, w, h)) => {
                    let scale = (PHOTO_MAX_W_MM / w as f64).min(PHOTO_MAX_H_MM / h as f64);
                    let (wm, hm) = (w as f64 * scale, h as f64 * scale);
                    let pic = Pic::new_with_dimensions(png, w, h).size((wm * EMU_PER_MM) as u32, (hm * EMU_PER_MM) as u32);
                    d.add_paragraph(Paragraph::new().align(AlignmentType::Center).keep_next(true).add_run(Run::new().add_image(pic)))
                        .add_paragraph(
                            Paragraph::new()
                                .align(AlignmentType::Center)
                                .line_spacing(LineSpacing::new().after(160))
                                .add_run(Run::new().add_text(caption).size(CAPTION_SIZE).fonts(fonts(SUBHEADING_FONT, "Times New Roman"))),
                        )
                }
                None => d.add_paragraph(
                    Paragraph::new()
                        .align(AlignmentType::Center)
                        .add_run(Run::new().add_text(caption).size(CAPTION_SIZE).fonts(fonts(SUBHEADING_FONT, "Times New Roman"))),
                ),
            },
            Block::Missing(t) => d.add_paragraph(
                Paragraph::new()
                    .align(AlignmentType::Center)
                    .add_run(Run::new().add_text(t).size(CAPTION_SIZE).color("888888").fonts(fonts(SUBHEADING_FONT, "Times New Roman"))),
            ),
            Block::PageBreak => d.add_paragraph(Paragraph::new().add_run(Run::new().add_break(BreakType::Page))),
        };
    }
    // 发文机关署名 and 成文日期: right-aligned, four characters in from the right edge, after
    // two blank lines.
    let right = |t: &str| {
        Paragraph::new().align(AlignmentType::Right).line_spacing(pitch()).indent(None, None, Some(4 * 320), None).add_run(body_run(t))
    };
    d = d
        .add_paragraph(Paragraph::new().line_spacing(pitch()).keep_next(true))
        .add_paragraph(Paragraph::new().line_spacing(pitch()).keep_next(true))
        .add_paragraph(right(&doc.issuer).keep_next(true))
        .add_paragraph(right(&doc.date));
    let mut out = Cursor::new(Vec::new());
    d.build().pack(&mut out).map_err(|e| ExportError::Io(std::io::Error::other(e.to_string())))?;
    Ok(out.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny_png() -> Vec<u8> {
        let img = image::RgbImage::from_pixel(40, 30, image::Rgb([200, 30, 30]));
        let mut out = Cursor::new(Vec::new());
        img.write_to(&mut out, image::ImageFormat::Png).unwrap();
        out.into_inner()
    }

    #[test]
    fn a_document_holds_its_title_table_photo_and_signature() {
        let doc = OfficialDoc {
            paper: Paper::A4,
            title: "关于督查情况的通报".into(),
            subtitle: Some("2026 年第 6 期".into()),
            blocks: vec![
                Block::Heading("一、总体情况".into()),
                Block::Paragraph("本周共督查点位 20 个次。".into()),
                Block::Table {
                    columns: vec!["名次".into(), "单位".into()],
                    widths: vec![1, 3],
                    rows: vec![vec!["1".into(), "迎宾社区".into()]],
                },
                Block::Photo { bytes: tiny_png(), caption: "图 1 楼道堆物".into() },
                Block::Photo { bytes: b"not a picture".to_vec(), caption: "图 2".into() },
            ],
            issuer: "济阳街道创城办".into(),
            date: "2026年12月2日".into(),
        };
        let bytes = write(&doc).unwrap();
        let read = docx_rs::read_docx(&bytes).unwrap();
        let json = read.json();
        for text in
            ["关于督查情况的通报", "2026 年第 6 期", "迎宾社区", "图 1 楼道堆物", "济阳街道创城办", "2026年12月2日", BODY_FONT, TITLE_FONT]
        {
            assert!(json.contains(text), "{text} missing");
        }
        assert_eq!(read.images.len(), 1, "one photo embedded, the broken one only captioned");
        assert!(json.contains("11906"), "A4 width");
    }
}
