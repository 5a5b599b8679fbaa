//! 督查通报: bulletins drafted from what the inspections and cases know (`draft`), edited,
//! issued under a number that has no gaps or repeats, corrected as a new version, written as
//! Word, Excel and a printable page (`output`); issuing sends each named unit its problem list
//! as a rectification notice (`notices`).

mod draft;
mod meeting;
mod notices;
mod output;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

pub use draft::NewBulletin;
pub use meeting::{AccountInput, MeetingView, ScoreInput};
pub use notices::{AnswerInput, NoticeItemView, NoticeView};

use crate::app::App;
use crate::domain::authz::{Actor, Permission};
use crate::domain::bulletin::{self as rules, BulletinKind, BulletinStatus, Content, Edit, EditError};
use crate::domain::calendar::beijing_date;
use crate::domain::inspection::{day_key, serialize_day_key};
use crate::domain::org::OrgUnit;
use crate::domain::photo::AttachmentOwner;
use crate::error::{AppError, AppResult, Invalid, Thing};
use crate::store::bulletins::{self as db, BulletinQuery, BulletinRow};
use crate::store::{attachments, cases::numbers, new_id};

/// A bulletin as pages and the API show it, with what the viewer may do to it.
#[derive(Debug, Clone, Serialize)]
pub struct BulletinView {
    pub id: String,
    pub area_code: String,
    pub area_name: String,
    pub kind: BulletinKind,
    #[serde(serialize_with = "serialize_day_key")]
    pub from: i64,
    #[serde(serialize_with = "serialize_day_key")]
    pub to: i64,
    pub status: BulletinStatus,
    /// "2026 年第 12 期" once issued.
    pub label: Option<String>,
    pub year: Option<i64>,
    pub number: Option<i64>,
    pub version: i64,
    pub supersedes: Option<String>,
    pub title: String,
    pub content: Content,
    pub revision: i64,
    pub created_at: i64,
    pub issued_at: Option<i64>,
    /// The date printed at the end: the issue date, or today for a draft.
    pub date: String,
    pub may_edit: bool,
    pub may_correct: bool,
    pub notices: Vec<NoticeView>,
}

/// A line of the list of bulletins.
#[derive(Debug, Clone, Serialize)]
pub struct BulletinBrief {
    pub id: String,
    pub area_name: String,
    pub kind: BulletinKind,
    #[serde(serialize_with = "serialize_day_key")]
    pub from: i64,
    #[serde(serialize_with = "serialize_day_key")]
    pub to: i64,
    pub status: BulletinStatus,
    pub label: Option<String>,
    pub version: i64,
    pub title: String,
    pub issued_at: Option<i64>,
}

/// What a list asks for.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct BulletinFilter {
    #[serde(default)]
    pub q: Option<String>,
    #[serde(default)]
    pub status: Option<BulletinStatus>,
}

/// An edit with the revision the editor read.
#[derive(Debug, Clone, Deserialize)]
pub struct EditInput {
    pub revision: i64,
    #[serde(flatten)]
    pub edit: Edit,
}

fn edit_error(e: EditError) -> AppError {
    AppError::Invalid(match e {
        EditError::Title => Invalid::BulletinTitle,
        EditError::Issuer => Invalid::BulletinIssuer,
        EditError::TextTooLong => Invalid::TextTooLong,
        EditError::DeadlineDays => Invalid::DeadlineDays,
        EditError::UnknownProblem => Invalid::UnknownProblem,
        EditError::PhotoNotCandidate => Invalid::PhotoNotCandidate,
    })
}

pub(crate) fn day_of(key: i64) -> NaiveDate {
    NaiveDate::from_ymd_opt((key / 10_000) as i32, (key / 100 % 100) as u32, (key % 100) as u32).unwrap_or_default()
}

impl App {
    /// Who may read a bulletin: a writer of the area sees drafts; whoever reads inspections
    /// in or under the area sees issued versions (a community its subdistrict's bulletins).
    fn may_read_bulletin(actor: &Actor, b: &BulletinRow, area: &OrgUnit) -> bool {
        if actor.can(Permission::WriteBulletins, &area.path) {
            return true;
        }
        b.status != BulletinStatus::Draft
            && (actor.can(Permission::ReadInspections, &area.path)
                || actor.scopes(Permission::ReadInspections).iter().any(|s| s.starts_with(area.path.as_str())))
    }

    fn bulletin_area(&self, b: &BulletinRow) -> AppResult<OrgUnit> {
        self.directory().unit(&b.area_id).cloned().ok_or(AppError::NotFound(Thing::OrgUnit))
    }

    /// A bulletin the actor may read, with its area.
    async fn readable_bulletin(&self, actor: &Actor, id: &str) -> AppResult<(BulletinRow, OrgUnit)> {
        let key = id.to_string();
        let b = self.store().read(move |c| db::bulletin(c, &key)).await?.ok_or(AppError::NotFound(Thing::Bulletin))?;
        let area = self.bulletin_area(&b)?;
        if !Self::may_read_bulletin(actor, &b, &area) {
            return Err(AppError::NotFound(Thing::Bulletin));
        }
        Ok((b, area))
    }

    fn brief(&self, b: &BulletinRow) -> BulletinBrief {
        let area_name = self.directory().unit(&b.area_id).map(|u| u.name.clone()).unwrap_or_default();
        BulletinBrief {
            id: b.id.clone(),
            area_name,
            kind: b.kind,
            from: b.period_from,
            to: b.period_to,
            status: b.status,
            label: b.year.zip(b.number).map(|(y, n)| rules::number_label(y as i32, n)),
            version: b.version,
            title: b.title.clone(),
            issued_at: b.issued_at,
        }
    }

    async fn bulletin_view(&self, actor: &Actor, b: BulletinRow, area: &OrgUnit) -> AppResult<BulletinView> {
        let writer = actor.can(Permission::WriteBulletins, &area.path);
        let notices = if b.status == BulletinStatus::Draft { Vec::new() } else { self.notices_of_bulletin(actor, &b).await? };
        let day = beijing_date(b.issued_at.unwrap_or_else(|| self.now()));
        Ok(BulletinView {
            id: b.id,
            area_code: area.code.clone(),
            area_name: area.name.clone(),
            kind: b.kind,
            from: b.period_from,
            to: b.period_to,
            status: b.status,
            label: b.year.zip(b.number).map(|(y, n)| rules::number_label(y as i32, n)),
            year: b.year,
            number: b.number,
            version: b.version,
            supersedes: b.supersedes,
            title: b.title,
            content: b.content,
            revision: b.revision,
            created_at: b.created_at,
            issued_at: b.issued_at,
            date: rules::official_date(day),
            may_edit: writer && b.status == BulletinStatus::Draft,
            may_correct: writer && b.status == BulletinStatus::Issued,
            notices,
        })
    }

    /// Bulletins of the areas the actor reads (drafts only where they write), newest first;
    /// `q` searches the titles.
    pub async fn bulletins(&self, actor: &Actor, filter: BulletinFilter) -> AppResult<Vec<BulletinBrief>> {
        if !actor.can_somewhere(Permission::ReadInspections) && !actor.can_somewhere(Permission::WriteBulletins) {
            return Err(AppError::Forbidden);
        }
        let dir = self.directory();
        let areas: Vec<String> = dir
            .units()
            .filter(|u| {
                matches!(
                    u.kind,
                    crate::domain::org::OrgKind::District
                        | crate::domain::org::OrgKind::Subdistrict
                        | crate::domain::org::OrgKind::Community
                )
            })
            .filter(|u| {
                actor.can(Permission::ReadInspections, &u.path)
                    || actor.can(Permission::WriteBulletins, &u.path)
                    || actor.scopes(Permission::ReadInspections).iter().any(|s| s.starts_with(u.path.as_str()))
            })
            .map(|u| u.id.clone())
            .collect();
        let q = BulletinQuery { areas, statuses: filter.status.into_iter().collect(), q: filter.q.clone(), limit: 200 };
        let rows = self.store().read(move |c| db::bulletins(c, &q)).await?;
        Ok(rows
            .into_iter()
            .filter(|b| self.bulletin_area(b).is_ok_and(|a| Self::may_read_bulletin(actor, b, &a)))
            .map(|b| self.brief(&b))
            .collect())
    }

    /// One bulletin.
    pub async fn bulletin(&self, actor: &Actor, id: &str) -> AppResult<BulletinView> {
        let (b, area) = self.readable_bulletin(actor, id).await?;
        self.bulletin_view(actor, b, &area).await
    }

    /// A draft the actor may change.
    async fn writable_draft(&self, actor: &Actor, id: &str) -> AppResult<(BulletinRow, OrgUnit)> {
        let (b, area) = self.readable_bulletin(actor, id).await?;
        if !actor.can(Permission::WriteBulletins, &area.path) {
            return Err(AppError::Forbidden);
        }
        if b.status != BulletinStatus::Draft {
            return Err(AppError::Invalid(Invalid::BulletinNotDraft));
        }
        Ok((b, area))
    }

    /// Changes a draft's texts, photos and deadline; refused when someone changed it since
    /// the editor read it, or it was issued.
    pub async fn edit_bulletin(&self, actor: &Actor, id: &str, input: EditInput) -> AppResult<BulletinView> {
        let (b, area) = self.writable_draft(actor, id).await?;
        if b.revision != input.revision {
            return Err(AppError::Invalid(Invalid::BulletinChanged));
        }
        let mut content = rules::apply_edit(b.content.clone(), &input.edit).map_err(edit_error)?;
        if let Some(ids) = &input.edit.quote_reports {
            content.quotes = Vec::new();
            for id in ids.iter().take(10) {
                let r = self.info_report(actor, id).await?;
                if r.report.status != crate::domain::info_report::ReportStatus::Approved {
                    return Err(AppError::Invalid(Invalid::QuoteNotAdopted));
                }
                content.quotes.push(rules::Quote {
                    report_id: r.report.id.clone(),
                    title: r.report.title.clone(),
                    unit: r.unit_name.clone(),
                    excerpt: rules::excerpt(&r.report.body, 120),
                });
            }
        }
        let (key, now, written) = (b.id.clone(), self.now(), content.clone());
        let ok = self.store().write(move |c| db::update_draft(c, &key, input.revision, &written, now)).await?;
        if !ok {
            return Err(AppError::Invalid(Invalid::BulletinChanged));
        }
        let updated = BulletinRow { title: content.title.clone(), content, revision: b.revision + 1, updated_at: now, ..b };
        self.bulletin_view(actor, updated, &area).await
    }

    /// Issues a draft: it takes the next number of its area and year (a correction keeps the
    /// number it corrects and replaces that version), is frozen, and — the first version
    /// only — sends each unit on its problem lists a rectification notice. All in one write:
    /// two editors issuing the same draft at once get one number between them.
    pub async fn issue_bulletin(&self, actor: &Actor, id: &str, revision: i64) -> AppResult<BulletinView> {
        self.issue_bulletin_at(actor, id, revision, self.now()).await
    }

    /// The same at a given moment (the demo issues a season of bulletins).
    pub(crate) async fn issue_bulletin_at(&self, actor: &Actor, id: &str, revision: i64, now: i64) -> AppResult<BulletinView> {
        let (b, area) = self.writable_draft(actor, id).await?;
        if b.revision != revision {
            return Err(AppError::Invalid(Invalid::BulletinChanged));
        }
        let year = chrono::Datelike::year(&beijing_date(now));
        let calendar = self.calendar().clone();
        let dir = self.directory();
        let by = actor.person_id.clone();
        let (key, area_code) = (b.id.clone(), area.code.clone());
        let supersedes = b.supersedes.clone();
        let lists = b.content.lists.clone();
        let shown: Vec<String> = b.content.problems.iter().filter(|p| p.shown).filter_map(|p| p.photo_id.clone()).collect();
        let deadline_days = b.content.deadline_days.max(1) as i64;
        self.store()
            .write(move |c| {
                let (year, number) = match &supersedes {
                    Some(old) => {
                        let old = db::bulletin(c, old)?.ok_or(AppError::NotFound(Thing::Bulletin))?;
                        if !db::supersede(c, &old.id, now)? {
                            return Err(AppError::Invalid(Invalid::BulletinChanged));
                        }
                        (old.year.unwrap_or(year as i64), old.number.unwrap_or(0))
                    }
                    None => (year as i64, numbers::next_number(c, &rules::sequence_name(&area_code, year))?),
                };
                if !db::issue(c, &key, revision, year, number, &by, now)? {
                    return Err(AppError::Invalid(Invalid::BulletinChanged));
                }
                // The photos it shows are the bulletin's now: its readers see them.
                attachments::attach(c, AttachmentOwner::Bulletin, &key, &shown, false)?;
                if supersedes.is_none() {
                    let deadline = calendar.add_working_minutes(now, deadline_days * calendar.minutes_per_day());
                    let (notices, items) = notices::notice_rows(&dir, &key, &lists, deadline, now);
                    db::insert_notices(c, &notices, &items)?;
                }
                Ok::<_, AppError>(())
            })
            .await?;
        self.bulletin(actor, id).await
    }

    /// Opens a correction of an issued bulletin: a new draft version of the same number with
    /// the same content, to be edited and issued in its place. Asking again gives the same
    /// open correction.
    pub async fn correct_bulletin(&self, actor: &Actor, id: &str) -> AppResult<BulletinView> {
        let (b, area) = self.readable_bulletin(actor, id).await?;
        if !actor.can(Permission::WriteBulletins, &area.path) {
            return Err(AppError::Forbidden);
        }
        if b.status != BulletinStatus::Issued {
            return Err(AppError::Invalid(Invalid::BulletinNotIssued));
        }
        let now = self.now();
        let by = actor.person_id.clone();
        let row = self
            .store()
            .write(move |c| {
                if let Some(open) = db::open_correction(c, &b.id)? {
                    return Ok::<_, AppError>(open);
                }
                let draft = BulletinRow {
                    id: new_id(),
                    status: BulletinStatus::Draft,
                    year: None,
                    number: None,
                    version: b.version + 1,
                    supersedes: Some(b.id.clone()),
                    revision: 0,
                    created_by: by,
                    created_at: now,
                    updated_at: now,
                    issued_by: None,
                    issued_at: None,
                    ..b
                };
                db::insert_bulletin(c, &draft)?;
                Ok(draft)
            })
            .await?;
        self.bulletin_view(actor, row, &area).await
    }
}

/// The area's period keys.
pub(crate) fn period_keys(from: NaiveDate, to: NaiveDate) -> (i64, i64) {
    (day_key(from), day_key(to))
}
