//! A bulletin as a Word document (GB/T 9704, through `export::docx`) and its tables as an
//! Excel workbook, one sheet per table.

use std::collections::HashMap;

use super::BulletinView;
use crate::app::App;
use crate::domain::authz::Actor;
use crate::domain::bulletin::{BulletinStatus, RankTable};
use crate::error::{AppError, AppResult};
use crate::export::docx::{Block, OfficialDoc};
use crate::export::{Cell, ExportFormat, TableHead, TableWriter, text_cell};
use crate::i18n::{Lang, t};
use crate::store::attachments;

const NUMERALS: [&str; 10] = ["一", "二", "三", "四", "五", "六", "七", "八", "九", "十"];

fn pct(r: Option<f64>) -> String {
    r.map(|r| format!("{:.1}%", r * 100.0)).unwrap_or_else(|| "—".into())
}

fn change(c: Option<f64>) -> String {
    c.map(|c| format!("{c:+.1}")).unwrap_or_else(|| "—".into())
}

fn table_rows(t: &RankTable) -> (Vec<String>, Vec<u32>, Vec<Vec<String>>) {
    if t.kind == "composite" {
        let columns = ["名次", "社区", "综合得分", "督查点位次", "按期结案率"].map(String::from).to_vec();
        let rows = t
            .rows
            .iter()
            .map(|r| vec![r.rank.to_string(), r.name.clone(), pct(r.rate), r.inspections.to_string(), pct(r.rectified_rate)])
            .collect();
        return (columns, vec![3, 6, 4, 4, 5], rows);
    }
    let columns = ["名次", "单位", "得分率", "较上期", "督查点位次", "发现问题", "按期整改率"].map(String::from).to_vec();
    let rows = t
        .rows
        .iter()
        .map(|r| {
            vec![
                r.rank.to_string(),
                r.name.clone(),
                pct(r.rate),
                change(r.change),
                r.inspections.to_string(),
                r.problems.to_string(),
                pct(r.rectified_rate),
            ]
        })
        .collect();
    (columns, vec![3, 6, 3, 3, 4, 4, 4], rows)
}

/// The document of a bulletin; `photos` holds the bytes of each shown photo (`None`: gone).
pub(crate) fn document(b: &BulletinView, photos: &HashMap<String, Option<Vec<u8>>>) -> OfficialDoc {
    let c = &b.content;
    let mut blocks = Vec::new();
    let mut section = 0usize;
    let mut heading = |blocks: &mut Vec<Block>, text: &str| {
        blocks.push(Block::Heading(format!("{}、{text}", NUMERALS.get(section).copied().unwrap_or("十"))));
        section += 1;
    };
    heading(&mut blocks, "总体情况");
    blocks.push(Block::Paragraph(c.intro.clone()));
    heading(&mut blocks, "得分排名");
    for (i, table) in c.tables.iter().enumerate() {
        blocks.push(Block::Subheading(format!("\u{ff08}{}\u{ff09}{}", NUMERALS.get(i).copied().unwrap_or("十"), table.title)));
        let (columns, widths, rows) = table_rows(table);
        blocks.push(Block::Table { columns, widths, rows });
    }
    if !c.red.is_empty() || !c.black.is_empty() {
        heading(&mut blocks, "红黑榜");
        if !c.red.is_empty() {
            blocks.push(Block::Paragraph(format!("红榜:{}。", c.red.join("、"))));
        }
        if !c.black.is_empty() {
            blocks.push(Block::Paragraph(format!("黑榜:{}。", c.black.join("、"))));
        }
    }
    let shown: Vec<_> = c.problems.iter().filter(|p| p.shown).collect();
    if !shown.is_empty() {
        heading(&mut blocks, "典型问题");
        // Figures are numbered in order, counting only problems that have one.
        let mut figure = 0;
        for (i, p) in shown.iter().enumerate() {
            blocks.push(Block::Subheading(format!("\u{ff08}{}\u{ff09}{} {}", NUMERALS.get(i).copied().unwrap_or("十"), p.code, p.text)));
            let mut s = format!("本期失分{}分,不达标{}次", p.lost, p.failed);
            if !p.places.is_empty() {
                s.push_str(&format!(",主要在{}", p.places.join("、")));
            }
            if !p.units.is_empty() {
                s.push_str(&format!("(涉及{})", p.units.join("、")));
            }
            s.push('。');
            blocks.push(Block::Paragraph(s));
            if let Some(id) = &p.photo_id {
                figure += 1;
                let caption = format!("图{figure} {}", p.caption);
                match photos.get(id) {
                    Some(Some(bytes)) => blocks.push(Block::Photo { bytes: bytes.clone(), caption }),
                    _ => blocks.push(Block::Missing(format!("{caption}(照片已不存在)"))),
                }
            }
        }
    }
    if !c.overdue.is_empty() {
        heading(&mut blocks, "逾期未办结问题");
        let total: i64 = c.overdue.iter().map(|o| o.count).sum();
        blocks.push(Block::Paragraph(format!("截至发文,辖区超期未办结问题{total}件,按责任单位如下:")));
        blocks.push(Block::Table {
            columns: ["责任单位", "逾期件数", "案卷编号(部分)"].map(String::from).to_vec(),
            widths: vec![4, 2, 8],
            rows: c.overdue.iter().map(|o| vec![o.unit.clone(), o.count.to_string(), o.numbers.join("、")]).collect(),
        });
    }
    if let Some(l) = &c.last_outcome {
        heading(&mut blocks, "上期问题整改情况");
        blocks.push(Block::Paragraph(format!(
            "{}通报问题清单共{}个问题,已整改{}个,未整改{}个,未反馈{}个。",
            if l.label.is_empty() { "上期".to_string() } else { l.label.clone() },
            l.items,
            l.fixed,
            l.not_fixed,
            l.unanswered
        )));
    }
    let listed: usize = c.lists.iter().map(|l| l.problems.len()).sum();
    if listed > 0 {
        heading(&mut blocks, "问题清单");
        blocks.push(Block::Paragraph(format!(
            "以下{listed}个问题请各责任单位于{}个工作日内完成整改,并在系统中逐项反馈整改情况。",
            c.deadline_days
        )));
        blocks.push(Block::Table {
            columns: ["责任单位", "案卷编号", "细则", "点位"].map(String::from).to_vec(),
            widths: vec![3, 4, 6, 3],
            rows: c
                .lists
                .iter()
                .flat_map(|l| {
                    l.problems
                        .iter()
                        .map(move |p| vec![l.unit.clone(), p.case_number.clone(), format!("{} {}", p.item_code, p.text), p.point.clone()])
                })
                .collect(),
        });
    }
    if !c.quotes.is_empty() {
        heading(&mut blocks, "信息选登");
        for q in &c.quotes {
            blocks.push(Block::Subheading(format!("{}({})", q.title, q.unit)));
            blocks.push(Block::Paragraph(q.excerpt.clone()));
        }
    }
    if !c.next_steps.is_empty() {
        heading(&mut blocks, "下步工作");
        for part in c.next_steps.split('\n').map(str::trim).filter(|p| !p.is_empty()) {
            blocks.push(Block::Paragraph(part.to_string()));
        }
    }
    let subtitle = match (&b.label, b.status) {
        (Some(l), _) if b.version > 1 => Some(format!("{l}(第 {} 版,更正)", b.version)),
        (Some(l), _) => Some(l.clone()),
        (None, BulletinStatus::Draft) => Some("(草稿)".into()),
        (None, _) => None,
    };
    OfficialDoc { paper: Default::default(), title: c.title.clone(), subtitle, blocks, issuer: c.issuer.clone(), date: b.date.clone() }
}

impl App {
    /// The bytes of the photos a bulletin shows (`None` for one gone from the store).
    async fn shown_photos(&self, b: &BulletinView) -> AppResult<HashMap<String, Option<Vec<u8>>>> {
        let ids: Vec<String> = b.content.problems.iter().filter(|p| p.shown).filter_map(|p| p.photo_id.clone()).collect();
        let wanted = ids.clone();
        let records = self.store().read(move |c| attachments::photos(c, &wanted)).await?;
        let blobs = self.blobs().clone();
        tokio::task::spawn_blocking(move || {
            ids.into_iter()
                .map(|id| {
                    let bytes = records.iter().find(|r| r.id == id).and_then(|r| blobs.get(&r.sha256).ok());
                    (id, bytes)
                })
                .collect()
        })
        .await
        .map_err(|_| AppError::Internal("photo read failed".into()))
    }

    /// The bulletin as a .docx: (file name, bytes).
    pub async fn bulletin_docx(&self, actor: &Actor, id: &str) -> AppResult<(String, Vec<u8>)> {
        let b = self.bulletin(actor, id).await?;
        self.docx_of(&b).await
    }

    /// A bulletin (stored or not) as a .docx.
    pub async fn docx_of(&self, b: &BulletinView) -> AppResult<(String, Vec<u8>)> {
        let b = b.clone();
        let photos = self.shown_photos(&b).await?;
        let doc = document(&b, &photos);
        let bytes = tokio::task::spawn_blocking(move || crate::export::docx::write(&doc))
            .await
            .map_err(|_| AppError::Internal("document writing failed".into()))??;
        Ok((format!("{}.docx", file_stem(&b)), bytes))
    }

    /// The bulletin's tables as an .xlsx: (file name, bytes).
    pub async fn bulletin_xlsx(&self, actor: &Actor, id: &str, lang: Lang) -> AppResult<(String, Vec<u8>)> {
        let b = self.bulletin(actor, id).await?;
        self.xlsx_of(b, lang).await
    }

    /// A bulletin (stored or not) as an .xlsx of its tables.
    pub async fn xlsx_of(&self, b: BulletinView, lang: Lang) -> AppResult<(String, Vec<u8>)> {
        let temp = self.config().data_dir.join("tmp");
        let notes = vec![
            b.area_name.clone(),
            format!("{} 至 {}", super::day_of(b.from), super::day_of(b.to)),
            b.label.clone().unwrap_or_else(|| t(lang, "web.bulletin_draft", &[])),
            self.export_time_note(lang),
        ];
        let name = file_stem(&b);
        let bytes = tokio::task::spawn_blocking(move || -> AppResult<Vec<u8>> {
            let c = &b.content;
            let mut sheets: Vec<(TableHead, Vec<Vec<Cell>>)> = Vec::new();
            for table in &c.tables {
                let (columns, _, rows) = table_rows(table);
                let cells = table
                    .rows
                    .iter()
                    .zip(rows)
                    .map(|(r, text)| {
                        let mut row: Vec<Cell> = text.into_iter().map(text_cell).collect();
                        row[0] = Cell::Number(r.rank as f64);
                        row[2] = Cell::Percent(r.rate);
                        row
                    })
                    .collect();
                sheets.push((TableHead { title: table.title.clone(), notes: notes.clone(), sheet: table.title.clone(), columns }, cells));
            }
            let problems = c
                .problems
                .iter()
                .filter(|p| p.shown)
                .map(|p| {
                    vec![
                        text_cell(&p.code),
                        text_cell(&p.text),
                        text_cell(&p.point_type),
                        Cell::Number(p.lost),
                        Cell::Number(p.failed as f64),
                        text_cell(p.places.join("、")),
                        text_cell(p.units.join("、")),
                    ]
                })
                .collect();
            let cols = |c: &[&str]| c.iter().map(|s| s.to_string()).collect::<Vec<_>>();
            sheets.push((
                TableHead {
                    title: "典型问题".into(),
                    notes: notes.clone(),
                    sheet: "典型问题".into(),
                    columns: cols(&["细则编号", "细则", "点位类型", "失分", "不达标次数", "点位", "社区"]),
                },
                problems,
            ));
            let listed = c
                .lists
                .iter()
                .flat_map(|l| {
                    l.problems.iter().map(move |p| {
                        vec![
                            text_cell(&l.unit),
                            text_cell(&p.case_number),
                            text_cell(&p.item_code),
                            text_cell(&p.text),
                            text_cell(&p.point),
                        ]
                    })
                })
                .collect();
            sheets.push((
                TableHead {
                    title: "问题清单".into(),
                    notes: notes.clone(),
                    sheet: "问题清单".into(),
                    columns: cols(&["责任单位", "案卷编号", "细则编号", "细则", "点位"]),
                },
                listed,
            ));
            let overdue =
                c.overdue.iter().map(|o| vec![text_cell(&o.unit), Cell::Number(o.count as f64), text_cell(o.numbers.join("、"))]).collect();
            sheets.push((
                TableHead {
                    title: "逾期未办结".into(),
                    notes,
                    sheet: "逾期未办结".into(),
                    columns: cols(&["责任单位", "逾期件数", "案卷编号(部分)"]),
                },
                overdue,
            ));
            let mut it = sheets.into_iter();
            let Some((head, rows)) = it.next() else { return Err(AppError::Internal("no table".into())) };
            let mut w = TableWriter::new(ExportFormat::Xlsx, head, &temp)?;
            for r in &rows {
                w.row(r)?;
            }
            for (head, rows) in it {
                w.next_table(head)?;
                for r in &rows {
                    w.row(r)?;
                }
            }
            Ok(w.finish()?)
        })
        .await
        .map_err(|_| AppError::Internal("workbook writing failed".into()))??;
        Ok((format!("{name}.xlsx"), bytes))
    }
}

fn file_stem(b: &BulletinView) -> String {
    match (b.year, b.number) {
        (Some(y), Some(n)) if b.version > 1 => format!("督查通报-{y}-{n:02}-v{}", b.version),
        (Some(y), Some(n)) => format!("督查通报-{y}-{n:02}"),
        _ => format!("督查通报-草稿-{}", super::day_of(b.to).format("%Y%m%d")),
    }
}
