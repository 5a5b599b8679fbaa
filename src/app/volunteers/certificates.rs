//! 志愿服务证明: issued by whoever keeps the volunteer's record ("谁记录谁证明"), carrying
//! every field 《志愿服务记录与证明出具办法(试行)》 asks for — the volunteer's name, ID type
//! and number, volunteer number, the hours and the services, the issuing body with its person
//! in charge, handler and contact, a number and a date — frozen when issued, with a digest
//! and a QR code to a public page where anyone can check it is real and unaltered.

use serde::{Deserialize, Serialize};
use sha2::Digest;

use crate::app::App;
use crate::domain::authz::{Actor, Permission};
use crate::domain::bulletin::official_date;
use crate::domain::calendar::{beijing_date, beijing_text};
use crate::domain::privacy::{mask_id_number, mask_name};
use crate::domain::volunteer::{AttendanceState, hours_text};
use crate::error::{AppError, AppResult, Invalid, Thing};
use crate::export::docx::{Block, OfficialDoc};
use crate::store::new_id;
use crate::store::volunteers::{self as db, CertificateRow};

/// What the issuer fills in.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct CertificateInput {
    /// 负责人 of the issuing body.
    pub person_in_charge: String,
    /// 联系电话 of the issuing body.
    pub contact: String,
    /// Only services from this day (YYYY-MM-DD), if given.
    #[serde(default)]
    pub from: Option<String>,
}

/// One service on a certificate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceLine {
    pub date: String,
    pub activity: String,
    pub place: String,
    pub organiser: String,
    pub hours: String,
}

/// Every printed field, as frozen when issued.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CertificateContent {
    pub number: String,
    pub name: String,
    pub id_type: String,
    pub id_number: String,
    pub volunteer_number: String,
    pub total_hours: String,
    pub services: Vec<ServiceLine>,
    pub issuer: String,
    pub person_in_charge: String,
    pub handler: String,
    pub contact: String,
    pub issued_on: String,
}

/// A certificate as its issuer or the public verification page shows it.
#[derive(Debug, Clone, Serialize)]
pub struct CertificateView {
    pub id: String,
    pub number: String,
    pub content: CertificateContent,
    /// The short check code printed under the QR code.
    pub check: String,
    pub verify_url: String,
    pub issued_at: i64,
    /// On the public page: whether the check code given matches the one issued.
    pub genuine: bool,
}

fn digest_of(content: &CertificateContent) -> AppResult<String> {
    let text = serde_json::to_string(content).map_err(|e| AppError::Internal(e.to_string()))?;
    Ok(sha2::Sha256::digest(text.as_bytes()).iter().map(|b| format!("{b:02x}")).collect())
}

fn check_of(digest: &str) -> String {
    digest.chars().take(12).collect()
}

fn verify_url(base: &str, id: &str, digest: &str) -> String {
    format!("{}/verify/{id}?k={}", base.trim_end_matches('/'), check_of(digest))
}

impl App {
    /// Issues a certificate of a volunteer's confirmed service (all of it, or from a day).
    pub async fn issue_certificate(
        &self,
        actor: &Actor,
        volunteer_id: &str,
        input: CertificateInput,
        base: &str,
    ) -> AppResult<CertificateView> {
        let key = volunteer_id.to_string();
        let v = self.store().read(move |c| db::volunteer(c, &key)).await?.ok_or(AppError::NotFound(Thing::Volunteer))?;
        if !actor.can(Permission::ManageVolunteers, &v.grid_path) {
            return Err(AppError::NotFound(Thing::Volunteer));
        }
        let person_in_charge = input.person_in_charge.trim().to_string();
        let contact = input.contact.trim().to_string();
        if person_in_charge.is_empty() || person_in_charge.chars().count() > 20 {
            return Err(AppError::Invalid(Invalid::VolunteerName));
        }
        if !crate::app::people::check_phone(&contact) {
            return Err(AppError::Invalid(Invalid::Phone));
        }
        let from = match input.from.as_deref().map(str::trim).filter(|f| !f.is_empty()) {
            Some(f) => Some(
                chrono::NaiveDate::parse_from_str(f, "%Y-%m-%d")
                    .map(crate::domain::calendar::beijing_day_start)
                    .map_err(|_| AppError::Invalid(Invalid::Period))?,
            ),
            None => None,
        };
        let dir = self.directory();
        // The issuing body: the unit above the volunteer's team that keeps the record (the
        // team's community or subdistrict), else the team.
        let team = dir.units().find(|u| v.grid_path.ends_with(&format!("/{}/", u.id)) || v.grid_path == u.path).cloned();
        let issuer = team
            .as_ref()
            .and_then(|t| t.parent_id.as_deref())
            .and_then(|p| dir.unit(p))
            .or(team.as_ref())
            .cloned()
            .ok_or(AppError::NotFound(Thing::OrgUnit))?;
        drop(dir);
        let vid = v.id.clone();
        let ledger = self.store().read(move |c| db::ledger(c, &vid)).await?;
        let dir = self.directory();
        let mut services: Vec<ServiceLine> = Vec::new();
        let mut minutes = 0;
        for (att, a) in ledger.iter().rev() {
            if att.state != AttendanceState::Confirmed || att.minutes == 0 || from.is_some_and(|f| a.starts_at < f) {
                continue;
            }
            minutes += att.minutes;
            services.push(ServiceLine {
                date: beijing_text(a.starts_at).chars().take(10).collect(),
                activity: a.title.clone(),
                place: a.place.clone(),
                organiser: dir.unit(&a.team_id).map(|u| u.name.clone()).unwrap_or_default(),
                hours: hours_text(att.minutes),
            });
        }
        drop(dir);
        let now = self.now();
        let year = chrono::Datelike::year(&beijing_date(now));
        let prefix = format!("志证〔{year}〕");
        let (handler, by) = (actor.name.clone(), actor.person_id.clone());
        let issued_on = official_date(beijing_date(now));
        let row = self
            .store()
            .write(move |c| {
                let serial = db::certificates_in_year(c, &prefix)? + 1;
                let number = format!("{prefix}{serial:05}号");
                let content = CertificateContent {
                    number: number.clone(),
                    name: v.name.clone(),
                    id_type: "居民身份证".into(),
                    id_number: v.id_number.clone().unwrap_or_default(),
                    volunteer_number: v.number.clone(),
                    total_hours: hours_text(minutes),
                    services,
                    issuer: issuer.name.clone(),
                    person_in_charge,
                    handler,
                    contact,
                    issued_on,
                };
                let digest = digest_of(&content)?;
                let row = CertificateRow {
                    id: new_id(),
                    number,
                    volunteer_id: v.id.clone(),
                    issuer_id: issuer.id.clone(),
                    minutes,
                    content: serde_json::to_value(&content).map_err(|e| AppError::Internal(e.to_string()))?,
                    digest,
                    issued_by: by,
                    issued_at: now,
                };
                db::insert_certificate(c, &row)?;
                Ok::<_, AppError>(row)
            })
            .await?;
        certificate_view(row, base, true)
    }

    /// A certificate for its issuer (full content) or its volunteer.
    pub async fn certificate(&self, actor: &Actor, id: &str, base: &str) -> AppResult<CertificateView> {
        let key = id.to_string();
        let (row, v) = self
            .store()
            .read(move |c| {
                let row = db::certificate(c, &key)?.ok_or(AppError::NotFound(Thing::Certificate))?;
                let v = db::volunteer(c, &row.volunteer_id)?.ok_or(AppError::NotFound(Thing::Certificate))?;
                Ok::<_, AppError>((row, v))
            })
            .await?;
        let own = actor.is_person() && v.person_id.as_deref() == Some(actor.person_id.as_str());
        if !own && !actor.can(Permission::ManageVolunteers, &v.grid_path) {
            return Err(AppError::NotFound(Thing::Certificate));
        }
        certificate_view(row, base, true)
    }

    /// A volunteer's certificates, newest first.
    pub async fn certificates_of(&self, actor: &Actor, volunteer_id: &str, base: &str) -> AppResult<Vec<CertificateView>> {
        let v = self.volunteer(actor, volunteer_id).await?;
        let vid = v.volunteer.id.clone();
        let rows = self.store().read(move |c| db::certificates_of(c, &vid)).await?;
        rows.into_iter().map(|r| certificate_view(r, base, true)).collect()
    }

    /// The public check of a certificate: found by its id, genuine when the check code of
    /// its QR code matches the one issued and its content still hashes to it. Personal data
    /// is masked.
    pub async fn verify_certificate(&self, id: &str, check: &str, base: &str) -> AppResult<CertificateView> {
        let key = id.to_string();
        let row = self.store().read(move |c| db::certificate(c, &key)).await?.ok_or(AppError::NotFound(Thing::Certificate))?;
        let content: CertificateContent = serde_json::from_value(row.content.clone()).map_err(|e| AppError::Internal(e.to_string()))?;
        let intact = digest_of(&content)? == row.digest;
        let genuine = intact && crate::app::auth::same_secret(&check_of(&row.digest), check.trim());
        if !genuine {
            return Err(AppError::NotFound(Thing::Certificate));
        }
        let mut view = certificate_view(row, base, genuine)?;
        let c = &mut view.content;
        c.name = mask_name(&c.name);
        c.id_number = mask_id_number(&c.id_number);
        Ok(view)
    }

    /// The certificate as a Word document (A4, the official layout, the QR code to its
    /// verification page). (file name, bytes)
    pub async fn certificate_docx(&self, actor: &Actor, id: &str, base: &str) -> AppResult<(String, Vec<u8>)> {
        let v = self.certificate(actor, id, base).await?;
        let c = &v.content;
        let qr = crate::export::qr::qr_png(&v.verify_url, 3)?;
        let mut blocks = vec![
            Block::Paragraph(format!(
                "兹证明 {}(证件类型:{},证件号码:{},志愿者编号:{})参加志愿服务,经本单位记录,累计志愿服务时长 {} 小时。服务情况如下:",
                c.name,
                c.id_type,
                if c.id_number.is_empty() { "—".to_string() } else { c.id_number.clone() },
                c.volunteer_number,
                c.total_hours
            )),
            Block::Table {
                columns: vec!["日期".into(), "服务内容".into(), "地点".into(), "组织者".into(), "小时".into()],
                widths: vec![5, 7, 5, 6, 3],
                rows: c.services.iter().map(|s| vec![s.date.clone(), s.activity.clone(), s.place.clone(), s.organiser.clone(), s.hours.clone()]).collect(),
            },
            Block::Paragraph("以上志愿服务信息真实、准确、完整,依据《志愿服务记录与证明出具办法(试行)》出具。时长为实际提供志愿服务的时间,不含往返交通时间。".into()),
            Block::Paragraph(format!("出具单位:{}", c.issuer)),
            Block::Paragraph(format!("负责人:{}    经办人:{}    联系电话:{}", c.person_in_charge, c.handler, c.contact)),
            Block::Photo { bytes: qr, caption: format!("扫码核验真伪 · 核验码 {} · {}", v.check, v.verify_url) },
        ];
        if c.services.is_empty() {
            blocks.remove(1);
        }
        let doc = OfficialDoc {
            paper: Default::default(),
            title: "志愿服务证明".into(),
            subtitle: Some(c.number.clone()),
            blocks,
            issuer: c.issuer.clone(),
            date: c.issued_on.clone(),
        };
        let name = format!("志愿服务证明-{}.docx", c.number);
        let bytes = tokio::task::spawn_blocking(move || crate::export::docx::write(&doc))
            .await
            .map_err(|_| AppError::Internal("document writing failed".into()))??;
        Ok((name, bytes))
    }
}

fn certificate_view(row: CertificateRow, base: &str, genuine: bool) -> AppResult<CertificateView> {
    let content: CertificateContent = serde_json::from_value(row.content).map_err(|e| AppError::Internal(e.to_string()))?;
    Ok(CertificateView {
        check: check_of(&row.digest),
        verify_url: verify_url(base, &row.id, &row.digest),
        id: row.id,
        number: row.number,
        content,
        issued_at: row.issued_at,
        genuine,
    })
}
