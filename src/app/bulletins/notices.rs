//! 整改通知: issuing a bulletin sends each unit on its problem lists a notice with a deadline
//! in working days; the unit answers each problem (整改反馈) with a note and photos, and a
//! problem reported fixed moves its case (accepted, then handled by the answering person, as
//! if they had acted on the case page). A notice past its deadline with answers missing is
//! overdue and escalated to the unit above, which sees it in its own list.

use serde::{Deserialize, Serialize};

use crate::app::App;
use crate::app::cases::ActInput;
use crate::app::grids::GridDirectory;
use crate::domain::authz::{Actor, Permission};
use crate::domain::bulletin::{self as rules, NoticeStatus, Outcome, ProblemList};
use crate::domain::case::{Action, Status};
use crate::domain::photo::AttachmentOwner;
use crate::error::{AppError, AppResult, Invalid, Thing};
use crate::store::bulletins::{self as db, BulletinRow, NoticeItemRow, NoticeRow};
use crate::store::{attachments, cases, new_id};

/// One problem of a notice as the unit sees it.
#[derive(Debug, Clone, Serialize)]
pub struct NoticeItemView {
    #[serde(flatten)]
    pub item: NoticeItemRow,
    pub photos: Vec<String>,
}

/// A notice with its problems and what the viewer may do.
#[derive(Debug, Clone, Serialize)]
pub struct NoticeView {
    #[serde(flatten)]
    pub notice: NoticeRow,
    pub unit_name: String,
    pub bulletin_title: String,
    pub bulletin_label: Option<String>,
    pub overdue: bool,
    pub may_answer: bool,
    /// The problems on the list (`items` is their count).
    pub problems: Vec<NoticeItemView>,
}

/// A unit's answer to one problem.
#[derive(Debug, Clone, Deserialize)]
pub struct AnswerInput {
    pub outcome: Outcome,
    #[serde(default)]
    pub note: Option<String>,
    #[serde(default)]
    pub photos: Vec<String>,
}

/// The rows issuing writes: a notice per unit with problems, a row per problem.
pub(super) fn notice_rows(
    dir: &GridDirectory,
    bulletin_id: &str,
    lists: &[ProblemList],
    deadline: i64,
    now: i64,
) -> (Vec<NoticeRow>, Vec<NoticeItemRow>) {
    let (mut notices, mut items) = (Vec::new(), Vec::new());
    for list in lists.iter().filter(|l| !l.problems.is_empty()) {
        let Some(unit) = dir.unit(&list.unit_id) else { continue };
        let id = new_id();
        for (i, p) in list.problems.iter().enumerate() {
            items.push(NoticeItemRow {
                id: new_id(),
                notice_id: id.clone(),
                sort: i as i64,
                case_id: Some(p.case_id.clone()),
                case_number: p.case_number.clone(),
                item_code: p.item_code.clone(),
                text: p.text.clone(),
                point: p.point.clone(),
                outcome: None,
                note: None,
                answered_by: None,
                answered_at: None,
            });
        }
        notices.push(NoticeRow {
            id,
            bulletin_id: bulletin_id.to_string(),
            unit_id: unit.id.clone(),
            unit_path: unit.path.clone(),
            escalated_path: String::new(),
            deadline,
            status: NoticeStatus::Open,
            items: list.problems.len() as i64,
            answered: 0,
            created_at: now,
            closed_at: None,
            escalated_at: None,
        });
    }
    (notices, items)
}

/// Whether `actor` may answer a notice: the unit it is sent to, or once escalated the unit
/// above.
fn may_answer(actor: &Actor, n: &NoticeRow) -> bool {
    actor.can(Permission::AnswerNotices, &n.unit_path)
        || (!n.escalated_path.is_empty() && actor.can(Permission::AnswerNotices, &n.escalated_path))
}

/// Whether `actor` may see a notice: whoever may answer it, and the bulletin's writers.
fn may_see(actor: &Actor, n: &NoticeRow) -> bool {
    may_answer(actor, n) || actor.can(Permission::WriteBulletins, &n.unit_path)
}

impl App {
    async fn notice_view(&self, actor: &Actor, n: NoticeRow, bulletin: Option<&BulletinRow>) -> AppResult<NoticeView> {
        let (id, bid) = (n.id.clone(), n.bulletin_id.clone());
        let need_bulletin = bulletin.is_none();
        let (items, photos, found) = self
            .store()
            .read(move |c| {
                let items = db::notice_items(c, &id)?;
                let mut photos = Vec::new();
                for i in &items {
                    photos.push(attachments::attached(c, AttachmentOwner::NoticeItem, &i.id, false)?);
                }
                let found = if need_bulletin { db::bulletin(c, &bid)? } else { None };
                Ok::<_, AppError>((items, photos, found))
            })
            .await?;
        let b = bulletin.or(found.as_ref());
        let now = self.now();
        Ok(NoticeView {
            unit_name: self.directory().unit(&n.unit_id).map(|u| u.name.clone()).unwrap_or_default(),
            bulletin_title: b.map(|b| b.title.clone()).unwrap_or_default(),
            bulletin_label: b.and_then(|b| b.year.zip(b.number)).map(|(y, n)| rules::number_label(y as i32, n)),
            overdue: n.status == NoticeStatus::Overdue || (n.status == NoticeStatus::Open && now > n.deadline),
            may_answer: may_answer(actor, &n) && rules::takes_answers(n.status),
            problems: items.into_iter().zip(photos).map(|(item, photos)| NoticeItemView { item, photos }).collect(),
            notice: n,
        })
    }

    /// The notices a bulletin sent, those the viewer may see.
    pub(super) async fn notices_of_bulletin(&self, actor: &Actor, b: &BulletinRow) -> AppResult<Vec<NoticeView>> {
        let id = b.id.clone();
        let first = b.supersedes.clone();
        let rows = self
            .store()
            .read(move |c| {
                // A correction's notices are those its first version sent.
                let mut rows = db::notices_of(c, &id)?;
                let mut at = first;
                while rows.is_empty() {
                    let Some(prev) = at.take() else { break };
                    rows = db::notices_of(c, &prev)?;
                    at = db::bulletin(c, &prev)?.and_then(|p| p.supersedes);
                }
                Ok::<_, AppError>(rows)
            })
            .await?;
        let mut out = Vec::new();
        for n in rows.into_iter().filter(|n| may_see(actor, n) || actor.can(Permission::ReadInspections, &n.unit_path)) {
            out.push(self.notice_view(actor, n, Some(b)).await?);
        }
        Ok(out)
    }

    /// Notices waiting for the actor's units (and those escalated to them), soonest deadline
    /// first; `all` adds the answered ones.
    pub async fn my_notices(&self, actor: &Actor, all: bool) -> AppResult<Vec<NoticeView>> {
        let paths: Vec<String> = actor.scopes(Permission::AnswerNotices).into_iter().map(str::to_string).collect();
        if paths.is_empty() {
            return Ok(Vec::new());
        }
        let statuses = if all { vec![] } else { vec![NoticeStatus::Open, NoticeStatus::Overdue] };
        let rows = self.store().read(move |c| db::notices_within(c, &paths, &statuses, 200)).await?;
        let mut out = Vec::new();
        for n in rows {
            out.push(self.notice_view(actor, n, None).await?);
        }
        Ok(out)
    }

    /// One notice.
    pub async fn notice(&self, actor: &Actor, id: &str) -> AppResult<NoticeView> {
        let key = id.to_string();
        let n = self.store().read(move |c| db::notice(c, &key)).await?.ok_or(AppError::NotFound(Thing::Notice))?;
        if !may_see(actor, &n) {
            return Err(AppError::NotFound(Thing::Notice));
        }
        self.notice_view(actor, n, None).await
    }

    /// Answers one problem of a notice. The answer and its photos are one write; a problem
    /// reported fixed then moves its case as the answering person (accept, handle) where the
    /// case allows it — a case already handled or closed stays as it is.
    pub async fn answer_notice(&self, actor: &Actor, notice_id: &str, item_id: &str, input: AnswerInput) -> AppResult<NoticeView> {
        self.answer_notice_at(actor, notice_id, item_id, input, self.now()).await
    }

    /// The same at a given moment (the demo answers a season of notices).
    pub(crate) async fn answer_notice_at(
        &self,
        actor: &Actor,
        notice_id: &str,
        item_id: &str,
        input: AnswerInput,
        now: i64,
    ) -> AppResult<NoticeView> {
        let note = input.note.as_deref().map(str::trim).unwrap_or("").to_string();
        if note.is_empty() {
            return Err(AppError::MissingParameter("note".into()));
        }
        if note.chars().count() > 1000 {
            return Err(AppError::Invalid(Invalid::NoteTooLong));
        }
        self.check_photos(Some(actor), &input.photos).await?;
        let (nid, iid, who) = (notice_id.to_string(), item_id.to_string(), actor.clone());
        let photos = input.photos.clone();
        let outcome = input.outcome;
        let written = note.clone();
        let case_id = self
            .store()
            .write(move |c| {
                let n = db::notice(c, &nid)?.ok_or(AppError::NotFound(Thing::Notice))?;
                if !may_see(&who, &n) {
                    return Err(AppError::NotFound(Thing::Notice));
                }
                if !may_answer(&who, &n) {
                    return Err(AppError::Forbidden);
                }
                if !rules::takes_answers(n.status) {
                    return Err(AppError::Invalid(Invalid::NoticeClosed));
                }
                let items = db::notice_items(c, &n.id)?;
                let item = items.iter().find(|i| i.id == iid).ok_or(AppError::NotFound(Thing::Notice))?;
                if !db::answer_item(c, &item.id, outcome, &written, &who.person_id, now)? {
                    return Err(AppError::Invalid(Invalid::AlreadyAnswered));
                }
                if !photos.is_empty() {
                    attachments::attach(c, AttachmentOwner::NoticeItem, &item.id, &photos, false)?;
                }
                let answered = n.answered + 1;
                let status = rules::status_after(n.status, n.items, answered);
                let closed = (status == NoticeStatus::Answered).then_some(now);
                db::set_notice_progress(c, &n.id, answered, status, closed)?;
                Ok::<_, AppError>(item.case_id.clone())
            })
            .await?;
        if outcome == Outcome::Fixed
            && let Some(case_id) = case_id
        {
            self.move_rectified_case(actor, &case_id, &note, &input.photos).await?;
        }
        self.notice(actor, notice_id).await
    }

    /// Accepts (if it waits for that) and handles a case reported fixed, where the person may.
    async fn move_rectified_case(&self, actor: &Actor, case_id: &str, note: &str, photos: &[String]) -> AppResult<()> {
        let id = case_id.to_string();
        let Some(record) = self.store().read(move |c| cases::case_by_id(c, &id)).await? else { return Ok(()) };
        let mut version = record.state.version;
        let mut status = record.state.status;
        let tolerated =
            |e: &AppError| matches!(e, AppError::ActionNotAllowed { .. } | AppError::Forbidden | AppError::NotFound(_) | AppError::Stale);
        if status == Status::Dispatched {
            match self.act(actor, case_id, Action::Accept, ActInput { version: Some(version), ..Default::default() }, None).await {
                Ok(v) => {
                    version = v.state.version;
                    status = v.state.status;
                }
                Err(e) if tolerated(&e) => return Ok(()),
                Err(e) => return Err(e),
            }
        }
        if status == Status::InProgress {
            let input = ActInput { note: Some(note.to_string()), photos: photos.to_vec(), version: Some(version), ..Default::default() };
            match self.act(actor, case_id, Action::Handle, input, None).await {
                Ok(_) => {}
                Err(e) if tolerated(&e) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Marks open notices past their deadline overdue and escalates each to the unit above
    /// its own; returns how many. Each is a conditional write, so several instances escalate
    /// a notice once.
    pub async fn scan_notices(&self) -> AppResult<usize> {
        let now = self.now();
        let due = self.store().read(move |c| db::overdue_notices(c, now)).await?;
        let dir = self.directory();
        let mut n = 0;
        for notice in due {
            let above = dir.unit(&notice.unit_id).and_then(|u| u.parent_id.as_deref()).and_then(|p| dir.unit(p)).map(|u| u.path.clone());
            let to = above.unwrap_or_else(|| notice.unit_path.clone());
            let id = notice.id.clone();
            if self.store().write(move |c| db::escalate_notice(c, &id, &to, now)).await? {
                n += 1;
            }
        }
        Ok(n)
    }
}
