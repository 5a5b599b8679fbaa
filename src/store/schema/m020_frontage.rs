//! Migration 20: 门前五包 on the inspection engine — each merchant's inspection point, the
//! door code (an unguessable token on the QR plate), the merchant's own account and the
//! serial of its login code; the monthly red and black lists as published.

use super::*;

fn backfill_door_tokens(c: &mut dyn Conn) -> StoreResult<()> {
    let rows = c.query(&Query::select().column("id").from("merchants").and_where(Expr::col("door_token").is_null()).to_owned())?;
    for r in rows {
        let id = r.string(0)?;
        c.execute(
            &Query::update()
                .table("merchants")
                .value("door_token", crate::store::merchants::new_door_token())
                .and_where(Expr::col("id").eq(id))
                .to_owned(),
        )?;
    }
    Ok(())
}

pub(super) fn steps() -> Vec<Step> {
    vec![
        Step::Alter(Table::alter().table("merchants").add_column(opt_key("point_id")).to_owned()),
        Step::Alter(Table::alter().table("merchants").add_column(ColumnDef::new("door_token").string_len(32).null()).to_owned()),
        Step::Alter(Table::alter().table("merchants").add_column(opt_key("account_id")).to_owned()),
        Step::Alter(
            Table::alter().table("merchants").add_column(ColumnDef::new("code_serial").big_integer().not_null().default(1)).to_owned(),
        ),
        Step::Code(backfill_door_tokens),
        Step::Index(Index::create().name("merchants_door").table("merchants").col("door_token").unique().to_owned()),
        idx("merchants_point", "merchants", &["point_id"]),
        idx("merchants_account", "merchants", &["account_id"]),
        idx("merchants_phone", "merchants", &["phone"]),
        idx("merchants_place", "merchants", &["lat", "lon"]),
        Step::Table(
            Table::create()
                .table("merchant_standings")
                // YYYYMM.
                .col(int("month"))
                .col(key("merchant_id"))
                // red, black or none.
                .col(ColumnDef::new("standing").string_len(8).not_null())
                .col(int("checks"))
                .col(int("failed"))
                .col(int("late"))
                .col(key("community_id"))
                .col(text("grid_path"))
                .col(opt_text("street"))
                .col(int("published_at"))
                .primary_key(Index::create().col("month").col("merchant_id"))
                .to_owned(),
        ),
        idx("merchant_standings_of", "merchant_standings", &["merchant_id", "month"]),
        idx("merchant_standings_area", "merchant_standings", &["month", "standing", "grid_path"]),
    ]
}
