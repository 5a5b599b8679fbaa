//! 信息报送: units send short reports with photos; the publicity group adopts, returns or
//! rejects them (never their own); adopted reports form the campaign's feed, count for their
//! unit, export as Word and can be quoted in a bulletin.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::App;
use crate::domain::authz::{Actor, Permission};
use crate::domain::calendar::beijing_date;
use crate::domain::info_report::{self as rules, Decision, ReportError, ReportKind, ReportStatus};
use crate::domain::inspection::day_key;
use crate::domain::photo::AttachmentOwner;
use crate::error::{AppError, AppResult, Invalid, Thing};
use crate::export::docx::{Block, OfficialDoc};
use crate::store::info_reports::{self as db, InfoReportRow, ReportQuery};
use crate::store::{attachments, new_id, people};

/// A report to send (or send again after it was returned).
#[derive(Debug, Clone, Deserialize)]
pub struct ReportInput {
    pub kind: ReportKind,
    pub title: String,
    pub body: String,
    /// The day it is about (default: today).
    #[serde(default)]
    pub date: Option<NaiveDate>,
    /// The unit it is sent for, by code (default: the sender's own).
    #[serde(default)]
    pub unit: Option<String>,
    #[serde(default)]
    pub photos: Vec<String>,
}

/// A review.
#[derive(Debug, Clone, Deserialize)]
pub struct ReviewInput {
    pub decision: Decision,
    #[serde(default)]
    pub note: Option<String>,
}

/// A report as pages and the API show it.
#[derive(Debug, Clone, Serialize)]
pub struct ReportView {
    #[serde(flatten)]
    pub report: InfoReportRow,
    pub unit_name: String,
    pub submitted_by_name: String,
    pub photos: Vec<String>,
    pub may_review: bool,
    pub may_resubmit: bool,
}

/// Reports sent and adopted per unit.
#[derive(Debug, Clone, Serialize)]
pub struct ReportCount {
    pub unit: String,
    pub submitted: i64,
    pub adopted: i64,
    pub rate: Option<f64>,
}

/// Which reports a list shows.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ReportFilter {
    /// `feed` (adopted, everyone's; the default), `mine` (what I sent), `review` (waiting
    /// for me to review).
    #[serde(default)]
    pub view: Option<String>,
}

fn report_error(e: ReportError) -> AppError {
    AppError::Invalid(match e {
        ReportError::Title => Invalid::ReportTitle,
        ReportError::Body => Invalid::ReportBody,
        ReportError::NotWaiting => Invalid::ReportNotWaiting,
        ReportError::NotReturned => Invalid::ReportNotReturned,
        ReportError::OwnReport => Invalid::OwnReport,
        ReportError::NoteRequired => Invalid::ReviewNote,
    })
}

impl App {
    async fn report_view(&self, actor: &Actor, r: InfoReportRow) -> AppResult<ReportView> {
        let (id, by) = (r.id.clone(), r.submitted_by.clone());
        let (photos, name) = self
            .store()
            .read(move |c| {
                Ok::<_, AppError>((attachments::attached(c, AttachmentOwner::InfoReport, &id, false)?, people::person_name(c, &by)?))
            })
            .await?;
        Ok(ReportView {
            unit_name: self.directory().unit(&r.unit_id).map(|u| u.name.clone()).unwrap_or_default(),
            submitted_by_name: name.unwrap_or_default(),
            photos,
            may_review: r.status == ReportStatus::Submitted
                && actor.can(Permission::ReviewReports, &r.unit_path)
                && r.submitted_by != actor.person_id,
            may_resubmit: r.status == ReportStatus::Returned && r.submitted_by == actor.person_id,
            report: r,
        })
    }

    /// Whether `actor` may see a report: adopted ones everybody signed in; the others their
    /// sender, their unit and its reviewers.
    fn may_see_report(actor: &Actor, r: &InfoReportRow) -> bool {
        r.status == ReportStatus::Approved
            || r.submitted_by == actor.person_id
            || actor.can(Permission::ReviewReports, &r.unit_path)
            || actor.can(Permission::SubmitReports, &r.unit_path)
    }

    /// Sends a report for the sender's unit (or a unit under it).
    pub async fn submit_report(&self, actor: &Actor, input: ReportInput) -> AppResult<ReportView> {
        rules::check(&input.title, &input.body).map_err(report_error)?;
        let scopes = actor.scopes(Permission::SubmitReports);
        let dir = self.directory();
        let unit = match input.unit.as_deref().map(str::trim).filter(|u| !u.is_empty()) {
            Some(code) => dir.unit_named(code).cloned().ok_or(AppError::NotFound(Thing::OrgUnit))?,
            None => {
                let path = scopes.first().ok_or(AppError::Forbidden)?;
                let id = path.trim_end_matches('/').rsplit('/').next().unwrap_or("");
                dir.unit(id).cloned().ok_or(AppError::NotFound(Thing::OrgUnit))?
            }
        };
        if !actor.can(Permission::SubmitReports, &unit.path) {
            return Err(AppError::NotFound(Thing::OrgUnit));
        }
        self.check_photos(Some(actor), &input.photos).await?;
        let now = self.now();
        let row = InfoReportRow {
            id: new_id(),
            unit_id: unit.id.clone(),
            unit_path: unit.path.clone(),
            kind: input.kind,
            title: input.title.trim().to_string(),
            body: input.body.trim().to_string(),
            event_day: day_key(input.date.unwrap_or_else(|| beijing_date(now))),
            status: ReportStatus::Submitted,
            review_note: None,
            reviewed_by: None,
            reviewed_at: None,
            submitted_by: actor.person_id.clone(),
            submitted_at: now,
        };
        let (stored, photos) = (row.clone(), input.photos.clone());
        self.store()
            .write(move |c| {
                db::insert(c, &stored, now)?;
                attachments::attach(c, AttachmentOwner::InfoReport, &stored.id, &photos, false)?;
                Ok::<_, AppError>(())
            })
            .await?;
        self.report_view(actor, row).await
    }

    /// One report.
    pub async fn info_report(&self, actor: &Actor, id: &str) -> AppResult<ReportView> {
        let key = id.to_string();
        let r = self.store().read(move |c| db::report(c, &key)).await?.ok_or(AppError::NotFound(Thing::InfoReport))?;
        if !Self::may_see_report(actor, &r) {
            return Err(AppError::NotFound(Thing::InfoReport));
        }
        self.report_view(actor, r).await
    }

    /// The feed (adopted reports, newest first), one's own reports, or those waiting for
    /// one's review.
    pub async fn info_reports(&self, actor: &Actor, filter: ReportFilter) -> AppResult<Vec<ReportView>> {
        let q = match filter.view.as_deref().unwrap_or("feed") {
            "mine" => ReportQuery { by: Some(actor.person_id.clone()), limit: 100, ..Default::default() },
            "review" => {
                if !actor.can_somewhere(Permission::ReviewReports) {
                    return Err(AppError::Forbidden);
                }
                let within = actor.scopes(Permission::ReviewReports).into_iter().map(str::to_string).collect();
                ReportQuery { statuses: vec![ReportStatus::Submitted], within: Some(within), limit: 200, ..Default::default() }
            }
            "feed" => ReportQuery { statuses: vec![ReportStatus::Approved], limit: 100, ..Default::default() },
            _ => return Err(AppError::InvalidParameter("view".into())),
        };
        let rows = self.store().read(move |c| db::reports(c, &q)).await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows.into_iter().filter(|r| Self::may_see_report(actor, r)) {
            out.push(self.report_view(actor, r).await?);
        }
        Ok(out)
    }

    /// The publicity group's review: adopt, return (with what to change) or reject (with why).
    pub async fn review_report(&self, actor: &Actor, id: &str, input: ReviewInput) -> AppResult<ReportView> {
        let current = self.info_report(actor, id).await?;
        if !actor.can(Permission::ReviewReports, &current.report.unit_path) {
            return Err(AppError::Forbidden);
        }
        let note = input.note.as_deref().map(str::trim).filter(|n| !n.is_empty()).map(str::to_string);
        if note.as_ref().is_some_and(|n| n.chars().count() > 1000) {
            return Err(AppError::Invalid(Invalid::NoteTooLong));
        }
        let status = rules::review(current.report.status, &current.report.submitted_by, &actor.person_id, input.decision, note.as_deref())
            .map_err(report_error)?;
        let (key, by, now) = (id.to_string(), actor.person_id.clone(), self.now());
        let ok = self.store().write(move |c| db::review(c, &key, status, note.as_deref(), &by, now)).await?;
        if !ok {
            return Err(AppError::Invalid(Invalid::ReportNotWaiting));
        }
        self.info_report(actor, id).await
    }

    /// The sender changes a returned report and sends it again.
    pub async fn resubmit_report(&self, actor: &Actor, id: &str, input: ReportInput) -> AppResult<ReportView> {
        let current = self.info_report(actor, id).await?;
        if current.report.submitted_by != actor.person_id {
            return Err(AppError::Forbidden);
        }
        rules::may_resubmit(current.report.status).map_err(report_error)?;
        rules::check(&input.title, &input.body).map_err(report_error)?;
        self.check_photos(Some(actor), &input.photos).await?;
        let (key, now) = (id.to_string(), self.now());
        let day = day_key(input.date.unwrap_or_else(|| beijing_date(now)));
        let (title, body, kind, photos) = (input.title.trim().to_string(), input.body.trim().to_string(), input.kind, input.photos.clone());
        let ok = self
            .store()
            .write(move |c| {
                let ok = db::resubmit(c, &key, kind, &title, &body, day, now)?;
                if ok {
                    attachments::attach(c, AttachmentOwner::InfoReport, &key, &photos, false)?;
                }
                Ok::<_, AppError>(ok)
            })
            .await?;
        if !ok {
            return Err(AppError::Invalid(Invalid::ReportNotReturned));
        }
        self.info_report(actor, id).await
    }

    /// Reports sent and adopted per unit of an area over a period.
    pub async fn report_counts(&self, actor: &Actor, area: Option<&str>, from: NaiveDate, to: NaiveDate) -> AppResult<Vec<ReportCount>> {
        let area = self.area(actor, area)?;
        let (path, fd, td) = (area.path.clone(), day_key(from), day_key(to));
        let rows = self.store().read(move |c| db::counts(c, &path, fd, td)).await?;
        let dir = self.directory();
        let mut out: Vec<ReportCount> = rows
            .into_iter()
            .map(|(unit, submitted, adopted)| ReportCount {
                unit: dir.unit(&unit).map(|u| u.name.clone()).unwrap_or_default(),
                submitted,
                adopted,
                rate: (submitted > 0).then(|| adopted as f64 / submitted as f64),
            })
            .collect();
        out.sort_by(|a, b| b.adopted.cmp(&a.adopted).then(b.submitted.cmp(&a.submitted)).then(a.unit.cmp(&b.unit)));
        Ok(out)
    }

    /// A report as a Word document: (file name, bytes).
    pub async fn report_docx(&self, actor: &Actor, id: &str) -> AppResult<(String, Vec<u8>)> {
        let v = self.info_report(actor, id).await?;
        let ids = v.photos.clone();
        let records = self.store().read(move |c| attachments::photos(c, &ids)).await?;
        let blobs = self.blobs().clone();
        let kind = match v.report.kind {
            ReportKind::News => "工作动态",
            ReportKind::Practice => "经验做法",
            ReportKind::Suggestion => "问题建议",
        };
        let day = crate::domain::inspection::day_of_key(v.report.event_day).unwrap_or_default();
        let title = v.report.title.clone();
        let doc = tokio::task::spawn_blocking(move || {
            let mut blocks: Vec<Block> =
                v.report.body.split('\n').map(str::trim).filter(|p| !p.is_empty()).map(|p| Block::Paragraph(p.to_string())).collect();
            for (i, r) in records.iter().enumerate() {
                match blobs.get(&r.sha256) {
                    Ok(bytes) => blocks.push(Block::Photo { bytes, caption: format!("图{}", i + 1) }),
                    Err(_) => blocks.push(Block::Missing(format!("图{}(照片已不存在)", i + 1))),
                }
            }
            let doc = OfficialDoc {
                paper: Default::default(),
                title: v.report.title.clone(),
                subtitle: Some(format!("{kind} · {}", v.unit_name)),
                blocks,
                issuer: v.unit_name.clone(),
                date: crate::domain::bulletin::official_date(day),
            };
            crate::export::docx::write(&doc)
        })
        .await
        .map_err(|_| AppError::Internal("document writing failed".into()))??;
        Ok((format!("信息报送-{title}.docx"), doc))
    }
}
