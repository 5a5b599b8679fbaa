//! 志愿服务: volunteers, team membership, activities and sign-ups, the attendance ledger with
//! corrections, star levels and certificates.

use sea_query::{Expr, ExprTrait, Order, Query};

use super::record::Record;
use super::{Conn, StoreResult};
use crate::domain::volunteer::{ActivityKind, AttendanceState, CorrectionDecision, Politics, SignupState};

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct VolunteerRow {
    pub id: String,
    pub number: String,
    pub name: String,
    pub phone: Option<String>,
    pub id_number: Option<String>,
    pub politics: Politics,
    pub station_id: Option<String>,
    pub skills: Vec<String>,
    #[serde(skip)]
    pub person_id: Option<String>,
    /// Confirmed minutes.
    pub minutes: i64,
    pub star: i64,
    /// The path of the volunteer's first team (whose admins see the record).
    #[serde(skip)]
    pub grid_path: String,
    pub active: bool,
    pub created_at: i64,
}

crate::record!(VolunteerRow in "volunteers" {
    id, number, name, phone, id_number, politics, station_id, skills: json, person_id, minutes, star, grid_path, active, created_at,
});

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct MembershipRow {
    pub volunteer_id: String,
    pub team_id: String,
    pub joined_on: i64,
    pub left_on: Option<i64>,
}

crate::record!(MembershipRow in "team_members" { volunteer_id, team_id, joined_on, left_on });

/// Services offered at an activity and, once it is over, how many people each served.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Served {
    pub service: String,
    #[serde(default)]
    pub beneficiaries: i64,
}

/// Materials handed out at an activity.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Handed {
    pub material: String,
    pub count: i64,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ActivityRow {
    pub id: String,
    pub title: String,
    pub kind: ActivityKind,
    pub services: Vec<Served>,
    pub materials: Vec<Handed>,
    pub team_id: String,
    pub organiser_id: String,
    pub grid_id: String,
    #[serde(skip)]
    pub grid_path: String,
    pub place: String,
    pub lat: f64,
    pub lon: f64,
    pub starts_at: i64,
    pub ends_at: i64,
    pub closes_at: i64,
    pub capacity: i64,
    /// Volunteers signed (not waiting), kept by every sign-up and cancellation.
    pub signed: i64,
    pub public: bool,
    pub cancelled: bool,
    pub note: Option<String>,
    pub created_at: i64,
}

crate::record!(ActivityRow in "activities" {
    id, title, kind, services: json, materials: json, team_id, organiser_id, grid_id, grid_path, place, lat, lon,
    starts_at, ends_at, closes_at, capacity, signed, public, cancelled, note, created_at,
});

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SignupRow {
    pub activity_id: String,
    pub volunteer_id: String,
    pub state: SignupState,
    pub at: i64,
}

crate::record!(SignupRow in "signups" { activity_id, volunteer_id, state, at });

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct AttendanceRow {
    pub id: String,
    pub activity_id: String,
    pub volunteer_id: String,
    pub checked_in_at: Option<i64>,
    pub checked_out_at: Option<i64>,
    pub by_hand: bool,
    pub minutes: i64,
    pub state: AttendanceState,
    pub decided_by: Option<String>,
    pub decided_at: Option<i64>,
    pub note: Option<String>,
}

crate::record!(AttendanceRow in "attendances" {
    id, activity_id, volunteer_id, checked_in_at, checked_out_at, by_hand, minutes, state, decided_by, decided_at, note,
});

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct CorrectionRow {
    pub id: String,
    pub attendance_id: String,
    pub volunteer_id: String,
    pub minutes_asked: i64,
    pub reason: String,
    pub asked_at: i64,
    pub decision: CorrectionDecision,
    pub decided_by: Option<String>,
    pub decided_at: Option<i64>,
    pub answer: Option<String>,
}

crate::record!(CorrectionRow in "corrections" {
    id, attendance_id, volunteer_id, minutes_asked, reason, asked_at, decision, decided_by, decided_at, answer,
});

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct CertificateRow {
    pub id: String,
    pub number: String,
    pub volunteer_id: String,
    pub issuer_id: String,
    pub minutes: i64,
    pub content: serde_json::Value,
    pub digest: String,
    pub issued_by: String,
    pub issued_at: i64,
}

crate::record!(CertificateRow in "certificates" { id, number, volunteer_id, issuer_id, minutes, content: json, digest, issued_by, issued_at });

fn one<T: Record>(conn: &mut dyn Conn, q: &sea_query::SelectStatement) -> StoreResult<Option<T>> {
    conn.query_opt(q)?.map(|r| T::decode(&r)).transpose()
}

fn all<T: Record>(conn: &mut dyn Conn, q: &sea_query::SelectStatement) -> StoreResult<Vec<T>> {
    conn.query(q)?.iter().map(T::decode).collect()
}

// ---- volunteers

pub fn volunteer(conn: &mut dyn Conn, id: &str) -> StoreResult<Option<VolunteerRow>> {
    one(conn, &VolunteerRow::select().and_where(Expr::col("id").eq(id)).to_owned())
}

pub fn volunteer_of_person(conn: &mut dyn Conn, person_id: &str) -> StoreResult<Option<VolunteerRow>> {
    one(conn, &VolunteerRow::select().and_where(Expr::col("person_id").eq(person_id)).to_owned())
}

pub fn volunteer_by_number(conn: &mut dyn Conn, number: &str) -> StoreResult<Option<VolunteerRow>> {
    one(conn, &VolunteerRow::select().and_where(Expr::col("number").eq(number)).to_owned())
}

/// The ID numbers and phones already taken, for an import to refuse duplicates.
pub fn taken_id_numbers(conn: &mut dyn Conn, ids: &[String]) -> StoreResult<Vec<String>> {
    let mut out = Vec::new();
    for chunk in ids.chunks(500) {
        let q = Query::select()
            .column("id_number")
            .from(VolunteerRow::TABLE)
            .and_where(Expr::col("id_number").is_in(chunk.iter().map(String::as_str)))
            .to_owned();
        for r in conn.query(&q)? {
            out.push(r.string(0)?);
        }
    }
    Ok(out)
}

/// Volunteers under any of `within` (paths), by name, at most `limit`; with `q` a name,
/// number or phone tail.
pub fn volunteers(
    conn: &mut dyn Conn,
    within: &[String],
    q: Option<&str>,
    team: Option<&str>,
    limit: u64,
) -> StoreResult<Vec<VolunteerRow>> {
    let mut any = sea_query::Condition::any();
    for w in within {
        any = any.add(Expr::col((VolunteerRow::TABLE, "grid_path")).like(format!("{w}%")));
    }
    let mut s = VolunteerRow::select().cond_where(any).order_by((VolunteerRow::TABLE, "name"), Order::Asc).limit(limit).to_owned();
    if let Some(q) = q.map(str::trim).filter(|q| !q.is_empty()) {
        let like = format!("%{q}%");
        s.and_where(
            Expr::col((VolunteerRow::TABLE, "name"))
                .like(like.clone())
                .or(Expr::col((VolunteerRow::TABLE, "number")).like(like))
                .or(Expr::col((VolunteerRow::TABLE, "phone")).like(format!("%{q}"))),
        );
    }
    if let Some(t) = team {
        s.and_where(
            Expr::col((VolunteerRow::TABLE, "id")).in_subquery(
                Query::select()
                    .column("volunteer_id")
                    .from(MembershipRow::TABLE)
                    .and_where(Expr::col("team_id").eq(t))
                    .and_where(Expr::col("left_on").is_null())
                    .to_owned(),
            ),
        );
    }
    all(conn, &s)
}

pub fn insert_volunteers(conn: &mut dyn Conn, rows: &[VolunteerRow], members: &[MembershipRow]) -> StoreResult<()> {
    for chunk in rows.chunks(500) {
        conn.insert_rows(VolunteerRow::TABLE, VolunteerRow::COLUMNS, chunk.iter().map(Record::values).collect())?;
    }
    for chunk in members.chunks(500) {
        conn.insert_rows(MembershipRow::TABLE, MembershipRow::COLUMNS, chunk.iter().map(Record::values).collect())?;
    }
    Ok(())
}

/// The next volunteer number's serial for a year prefix (numbers are `<prefix><serial:06>`).
pub fn count_numbered(conn: &mut dyn Conn, prefix: &str) -> StoreResult<i64> {
    let r = conn.query_opt(
        &Query::select()
            .expr(Expr::col("id").count())
            .from(VolunteerRow::TABLE)
            .and_where(Expr::col("number").like(format!("{prefix}%")))
            .to_owned(),
    )?;
    Ok(r.map(|r| r.i64(0)).transpose()?.unwrap_or(0))
}

pub fn memberships(conn: &mut dyn Conn, volunteer_id: &str) -> StoreResult<Vec<MembershipRow>> {
    all(conn, &MembershipRow::select().and_where(Expr::col("volunteer_id").eq(volunteer_id)).order_by("joined_on", Order::Asc).to_owned())
}

pub fn join_team(conn: &mut dyn Conn, m: &MembershipRow) -> StoreResult<()> {
    conn.execute(&m.insert())?;
    Ok(())
}

/// Ends a volunteer's current membership of a team; false when there is none.
pub fn leave_team(conn: &mut dyn Conn, volunteer_id: &str, team_id: &str, on: i64) -> StoreResult<bool> {
    let n = conn.execute(
        &Query::update()
            .table(MembershipRow::TABLE)
            .value("left_on", on)
            .and_where(Expr::col("volunteer_id").eq(volunteer_id))
            .and_where(Expr::col("team_id").eq(team_id))
            .and_where(Expr::col("left_on").is_null())
            .to_owned(),
    )?;
    Ok(n > 0)
}

/// Adds confirmed minutes to a volunteer's total and sets the star level it reaches now;
/// returns the new total.
pub fn add_minutes(conn: &mut dyn Conn, volunteer_id: &str, minutes: i64, star_of: &dyn Fn(i64) -> u8, at: i64) -> StoreResult<i64> {
    let Some(v) = volunteer(conn, volunteer_id)? else { return Ok(0) };
    let total = Ord::max(v.minutes + minutes, 0);
    let star = i64::from(star_of(total));
    conn.execute(
        &Query::update()
            .table(VolunteerRow::TABLE)
            .value("minutes", total)
            .value("star", star)
            .and_where(Expr::col("id").eq(volunteer_id))
            .to_owned(),
    )?;
    for level in (v.star + 1)..=star {
        conn.execute(
            &Query::insert()
                .into_table("volunteer_stars")
                .columns(["volunteer_id", "star", "reached_at"])
                .values_panic([volunteer_id.into(), level.into(), at.into()])
                .on_conflict(
                    sea_query::OnConflict::columns([sea_query::Alias::new("volunteer_id"), sea_query::Alias::new("star")])
                        .do_nothing()
                        .to_owned(),
                )
                .to_owned(),
        )?;
    }
    Ok(total)
}

/// When each star level was reached.
pub fn stars_reached(conn: &mut dyn Conn, volunteer_id: &str) -> StoreResult<Vec<(i64, i64)>> {
    let q = Query::select()
        .columns(["star", "reached_at"])
        .from("volunteer_stars")
        .and_where(Expr::col("volunteer_id").eq(volunteer_id))
        .order_by("star", Order::Asc)
        .to_owned();
    conn.query(&q)?.iter().map(|r| Ok((r.i64(0)?, r.i64(1)?))).collect()
}

// ---- activities

pub fn activity(conn: &mut dyn Conn, id: &str) -> StoreResult<Option<ActivityRow>> {
    one(conn, &ActivityRow::select().and_where(Expr::col("id").eq(id)).to_owned())
}

pub fn insert_activity(conn: &mut dyn Conn, a: &ActivityRow) -> StoreResult<()> {
    conn.execute(&a.insert())?;
    Ok(())
}

pub fn update_activity(conn: &mut dyn Conn, a: &ActivityRow) -> StoreResult<()> {
    conn.execute(&a.update_by("id", a.id.clone().into()))?;
    Ok(())
}

/// Activities starting in `[from, to)` in a grid under any of `within` or organised by one of
/// `teams` (all with `None`), earliest first.
pub fn activities(
    conn: &mut dyn Conn,
    within: Option<(&[String], &[String])>,
    from: i64,
    to: i64,
    public_only: bool,
    limit: u64,
) -> StoreResult<Vec<ActivityRow>> {
    let mut q = ActivityRow::select()
        .and_where(Expr::col("starts_at").gte(from))
        .and_where(Expr::col("starts_at").lt(to))
        .order_by("starts_at", Order::Asc)
        .limit(limit)
        .to_owned();
    if let Some((paths, teams)) = within {
        let mut any = sea_query::Condition::any();
        for p in paths {
            any = any.add(Expr::col("grid_path").like(format!("{p}%")));
        }
        if !teams.is_empty() {
            any = any.add(Expr::col("team_id").is_in(teams.iter().map(String::as_str)));
        }
        q.cond_where(any);
    }
    if public_only {
        q.and_where(Expr::col("public").eq(true)).and_where(Expr::col("cancelled").eq(false));
    }
    all(conn, &q)
}

// ---- sign-ups

pub fn signup(conn: &mut dyn Conn, activity_id: &str, volunteer_id: &str) -> StoreResult<Option<SignupRow>> {
    one(
        conn,
        &SignupRow::select()
            .and_where(Expr::col("activity_id").eq(activity_id))
            .and_where(Expr::col("volunteer_id").eq(volunteer_id))
            .to_owned(),
    )
}

pub fn put_signup(conn: &mut dyn Conn, s: &SignupRow) -> StoreResult<()> {
    conn.execute(
        &s.insert()
            .on_conflict(
                sea_query::OnConflict::columns([sea_query::Alias::new("activity_id"), sea_query::Alias::new("volunteer_id")])
                    .update_columns([sea_query::Alias::new("state"), sea_query::Alias::new("at")])
                    .to_owned(),
            )
            .to_owned(),
    )?;
    Ok(())
}

/// Moves the activity's signed count by `by`.
pub fn bump_signed(conn: &mut dyn Conn, activity_id: &str, by: i64) -> StoreResult<()> {
    conn.execute(
        &Query::update()
            .table(ActivityRow::TABLE)
            .value("signed", Expr::col("signed").add(by))
            .and_where(Expr::col("id").eq(activity_id))
            .to_owned(),
    )?;
    Ok(())
}

/// The list of an activity: signed first, then waiting, each in the order they came.
pub fn signups(conn: &mut dyn Conn, activity_id: &str) -> StoreResult<Vec<SignupRow>> {
    let mut rows: Vec<SignupRow> =
        all(conn, &SignupRow::select().and_where(Expr::col("activity_id").eq(activity_id)).order_by("at", Order::Asc).to_owned())?;
    rows.sort_by_key(|s| (s.state != SignupState::Signed, s.state == SignupState::Cancelled, s.at));
    Ok(rows)
}

/// The first on the waiting list.
pub fn first_waiting(conn: &mut dyn Conn, activity_id: &str) -> StoreResult<Option<SignupRow>> {
    one(
        conn,
        &SignupRow::select()
            .and_where(Expr::col("activity_id").eq(activity_id))
            .and_where(Expr::col("state").eq(SignupState::Waiting.as_str()))
            .order_by("at", Order::Asc)
            .limit(1)
            .to_owned(),
    )
}

/// The activities a volunteer is signed for or waiting on, with their rows.
pub fn signed_activities(conn: &mut dyn Conn, volunteer_id: &str) -> StoreResult<Vec<(SignupRow, ActivityRow)>> {
    let mut q = SignupRow::select();
    q.columns(ActivityRow::COLUMNS.iter().map(|c| (ActivityRow::TABLE, *c)))
        .inner_join(ActivityRow::TABLE, Expr::col((ActivityRow::TABLE, "id")).equals((SignupRow::TABLE, "activity_id")))
        .and_where(Expr::col((SignupRow::TABLE, "volunteer_id")).eq(volunteer_id))
        .and_where(Expr::col((SignupRow::TABLE, "state")).ne(SignupState::Cancelled.as_str()))
        .order_by((ActivityRow::TABLE, "starts_at"), Order::Desc);
    conn.query(&q)?.iter().map(|r| Ok((SignupRow::decode(r)?, ActivityRow::decode_at(r, SignupRow::COLUMNS.len())?))).collect()
}

// ---- attendance

pub fn attendance(conn: &mut dyn Conn, id: &str) -> StoreResult<Option<AttendanceRow>> {
    one(conn, &AttendanceRow::select().and_where(Expr::col("id").eq(id)).to_owned())
}

pub fn attendance_of(conn: &mut dyn Conn, activity_id: &str, volunteer_id: &str) -> StoreResult<Option<AttendanceRow>> {
    one(
        conn,
        &AttendanceRow::select()
            .and_where(Expr::col("activity_id").eq(activity_id))
            .and_where(Expr::col("volunteer_id").eq(volunteer_id))
            .to_owned(),
    )
}

pub fn put_attendance(conn: &mut dyn Conn, a: &AttendanceRow) -> StoreResult<()> {
    conn.execute(&a.upsert("id"))?;
    Ok(())
}

pub fn insert_attendances(conn: &mut dyn Conn, rows: &[AttendanceRow]) -> StoreResult<()> {
    for chunk in rows.chunks(500) {
        conn.insert_rows(AttendanceRow::TABLE, AttendanceRow::COLUMNS, chunk.iter().map(Record::values).collect())?;
    }
    Ok(())
}

pub fn attendances(conn: &mut dyn Conn, activity_id: &str) -> StoreResult<Vec<AttendanceRow>> {
    all(conn, &AttendanceRow::select().and_where(Expr::col("activity_id").eq(activity_id)).order_by("checked_in_at", Order::Asc).to_owned())
}

/// A volunteer's ledger: each attendance with its activity, newest first.
pub fn ledger(conn: &mut dyn Conn, volunteer_id: &str) -> StoreResult<Vec<(AttendanceRow, ActivityRow)>> {
    let mut q = AttendanceRow::select();
    q.columns(ActivityRow::COLUMNS.iter().map(|c| (ActivityRow::TABLE, *c)))
        .inner_join(ActivityRow::TABLE, Expr::col((ActivityRow::TABLE, "id")).equals((AttendanceRow::TABLE, "activity_id")))
        .and_where(Expr::col((AttendanceRow::TABLE, "volunteer_id")).eq(volunteer_id))
        .order_by((ActivityRow::TABLE, "starts_at"), Order::Desc);
    conn.query(&q)?.iter().map(|r| Ok((AttendanceRow::decode(r)?, ActivityRow::decode_at(r, AttendanceRow::COLUMNS.len())?))).collect()
}

// ---- corrections

pub fn correction(conn: &mut dyn Conn, id: &str) -> StoreResult<Option<CorrectionRow>> {
    one(conn, &CorrectionRow::select().and_where(Expr::col("id").eq(id)).to_owned())
}

pub fn put_correction(conn: &mut dyn Conn, c: &CorrectionRow) -> StoreResult<()> {
    conn.execute(&c.upsert("id"))?;
    Ok(())
}

pub fn corrections_of(conn: &mut dyn Conn, attendance_ids: &[String]) -> StoreResult<Vec<CorrectionRow>> {
    let mut out = Vec::new();
    for chunk in attendance_ids.chunks(500) {
        out.extend(all::<CorrectionRow>(
            conn,
            &CorrectionRow::select()
                .and_where(Expr::col("attendance_id").is_in(chunk.iter().map(String::as_str)))
                .order_by("asked_at", Order::Asc)
                .to_owned(),
        )?);
    }
    Ok(out)
}

// ---- certificates

pub fn insert_certificate(conn: &mut dyn Conn, c: &CertificateRow) -> StoreResult<()> {
    conn.execute(&c.insert())?;
    Ok(())
}

pub fn certificate(conn: &mut dyn Conn, id: &str) -> StoreResult<Option<CertificateRow>> {
    one(conn, &CertificateRow::select().and_where(Expr::col("id").eq(id)).to_owned())
}

pub fn certificates_of(conn: &mut dyn Conn, volunteer_id: &str) -> StoreResult<Vec<CertificateRow>> {
    all(conn, &CertificateRow::select().and_where(Expr::col("volunteer_id").eq(volunteer_id)).order_by("issued_at", Order::Desc).to_owned())
}

/// Certificates issued in a year (numbers are serial per year).
pub fn certificates_in_year(conn: &mut dyn Conn, prefix: &str) -> StoreResult<i64> {
    let r = conn.query_opt(
        &Query::select()
            .expr(Expr::col("id").count())
            .from(CertificateRow::TABLE)
            .and_where(Expr::col("number").like(format!("{prefix}%")))
            .to_owned(),
    )?;
    Ok(r.map(|r| r.i64(0)).transpose()?.unwrap_or(0))
}
