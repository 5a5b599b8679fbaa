//! Migration 9: photos attached to their owners, each with whether it may be shown publicly.
//! Photos of existing cases are attached from the event log; only a citizen's own report
//! photos (sent through Open311, where media is public by nature) become public.

use super::*;
use crate::store::Conn;

pub(super) fn steps() -> Vec<Step> {
    vec![
        Step::Table(
            Table::create()
                .table("attachments")
                .col(ColumnDef::new("photo_id").string_len(36).not_null())
                .col(ColumnDef::new("owner_kind").string_len(24).not_null())
                .col(ColumnDef::new("owner_id").string_len(36).not_null())
                .col(flag("public"))
                .col(int("created_at"))
                .primary_key(Index::create().col("owner_kind").col("owner_id").col("photo_id"))
                .foreign_key(&mut fk("attachments", "photo_id", "photos"))
                .to_owned(),
        ),
        idx("attachments_photo", "attachments", &["photo_id"]),
        Step::Code(attach_case_photos),
    ]
}

fn attach_case_photos(conn: &mut dyn Conn) -> StoreResult<()> {
    use crate::domain::case::EventData;
    use crate::domain::photo::AttachmentOwner;
    let rows = conn.query(
        &Query::select()
            .column(("case_events", "case_id"))
            .column(("case_events", "action"))
            .column(("case_events", "data"))
            .column(("cases", "source"))
            .from("case_events")
            .inner_join("cases", Expr::col(("cases", "id")).equals(("case_events", "case_id")))
            .and_where(Expr::col(("case_events", "data")).like("%\"photos\"%"))
            .to_owned(),
    )?;
    for r in rows {
        let data: EventData = serde_json::from_str(&r.string(2)?).map_err(|e| StoreError::Decode { column: 2, reason: e.to_string() })?;
        let public = r.string(1)? == "report" && r.string(3)? == "citizen";
        crate::store::attachments::attach(conn, AttachmentOwner::Case, &r.string(0)?, &data.photos, public)?;
    }
    Ok(())
}
