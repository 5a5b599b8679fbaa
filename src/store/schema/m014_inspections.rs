//! Migration 14: the evaluation manual (versions, items), inspection points, rounds and their
//! points, inspections scored item by item, and the sums rankings read.

use super::*;

fn sums_table(name: &'static str, per_item: bool) -> sea_query::TableCreateStatement {
    let mut t = Table::create()
        .table(name)
        .col(ColumnDef::new("grain").string_len(1).not_null())
        .col(ColumnDef::new("unit_key").string_len(48).not_null())
        .col(int("period"))
        .to_owned();
    let mut pk = Index::create().col("grain").col("unit_key").col("period").to_owned();
    if per_item {
        t.col(ColumnDef::new("item_code").string_len(32).not_null());
        pk.col("item_code");
    }
    for c in ["inspections", "problems", "failed", "voided"] {
        t.col(int(c));
    }
    for c in ["score", "standard", "lost"] {
        t.col(real(c));
    }
    t.primary_key(&mut pk);
    t
}

pub(super) fn steps() -> Vec<Step> {
    vec![
        Step::Table(
            Table::create()
                .table("manuals")
                .col(id("id"))
                .col(ColumnDef::new("version").big_integer().not_null().unique_key())
                .col(text("name"))
                .col(int("point_types"))
                .col(int("items"))
                .col(text("created_by"))
                .col(int("created_at"))
                .to_owned(),
        ),
        Step::Table(
            Table::create()
                .table("manual_items")
                .col(key("manual_id"))
                .col(ColumnDef::new("code").string_len(32).not_null())
                .col(text("point_type"))
                .col(flag("simulated"))
                .col(text("text"))
                .col(opt_text("method"))
                .col(real("standard"))
                .col(text("scoring"))
                .col(flag("veto"))
                .col(ColumnDef::new("category_code").string_len(8).null())
                .col(int("sort"))
                .primary_key(Index::create().col("manual_id").col("code"))
                .foreign_key(&mut fk("manual_items", "manual_id", "manuals"))
                .to_owned(),
        ),
        Step::Table(
            Table::create()
                .table("points")
                .col(id("id"))
                .col(text("name"))
                .col(text("point_type"))
                .col(ColumnDef::new("lat").double().null())
                .col(ColumnDef::new("lon").double().null())
                .col(opt_key("grid_id"))
                .col(opt_key("community_id"))
                // The scope the point falls in: its grid's path, or (a simulated test) its
                // responsible unit's.
                .col(text("scope_path"))
                .col(key("unit_id"))
                .col(opt_text("address"))
                .col(flag("active"))
                .col(int("created_at"))
                .foreign_key(&mut fk("points", "unit_id", "org_units"))
                .to_owned(),
        ),
        Step::Index(Index::create().name("points_name").table("points").col("point_type").col("name").unique().to_owned()),
        idx("points_scope", "points", &["scope_path"]),
        Step::Table(
            Table::create()
                .table("rounds")
                .col(id("id"))
                .col(text("name"))
                .col(ColumnDef::new("kind").string_len(16).not_null())
                .col(key("manual_id"))
                .col(int("starts_on"))
                .col(int("ends_on"))
                .col(int("seed"))
                .col(opt_key("based_on"))
                .col(text("created_by"))
                .col(int("created_at"))
                .foreign_key(&mut fk("rounds", "manual_id", "manuals"))
                .to_owned(),
        ),
        idx("rounds_period", "rounds", &["ends_on", "starts_on"]),
        Step::Table(
            Table::create()
                .table("round_points")
                .col(key("round_id"))
                .col(key("point_id"))
                .col(opt_key("inspector_id"))
                // A re-check's items (JSON list of codes); NULL: every item of the point type.
                .col(opt_text("items"))
                .col(opt_key("inspection_id"))
                .col(int("sort"))
                .primary_key(Index::create().col("round_id").col("point_id"))
                .foreign_key(&mut fk("round_points", "round_id", "rounds"))
                .foreign_key(&mut fk("round_points", "point_id", "points"))
                .to_owned(),
        ),
        idx("round_points_inspector", "round_points", &["inspector_id", "inspection_id"]),
        Step::Table(
            Table::create()
                .table("inspections")
                .col(id("id"))
                .col(key("round_id"))
                .col(key("point_id"))
                .col(key("inspector_id"))
                .col(key("manual_id"))
                .col(int("at"))
                .col(int("day"))
                .col(real("score"))
                .col(real("standard"))
                .col(flag("voided"))
                .col(int("problems"))
                .col(int("failed_items"))
                .col(opt_text("note"))
                .foreign_key(&mut fk("inspections", "round_id", "rounds"))
                .foreign_key(&mut fk("inspections", "point_id", "points"))
                .to_owned(),
        ),
        Step::Index(
            Index::create().name("inspections_round_point").table("inspections").col("round_id").col("point_id").unique().to_owned(),
        ),
        idx("inspections_point", "inspections", &["point_id", "at"]),
        idx("inspections_day", "inspections", &["day"]),
        Step::Table(
            Table::create()
                .table("inspection_items")
                .col(id("id"))
                .col(key("inspection_id"))
                .col(ColumnDef::new("item_code").string_len(32).not_null())
                .col(text("observation"))
                .col(flag("applicable"))
                .col(real("score"))
                .col(real("standard"))
                .col(flag("failed"))
                .col(int("problems"))
                .col(opt_text("note"))
                .col(opt_key("case_id"))
                .foreign_key(&mut fk("inspection_items", "inspection_id", "inspections"))
                .to_owned(),
        ),
        idx("inspection_items_inspection", "inspection_items", &["inspection_id"]),
        idx("inspection_items_case", "inspection_items", &["case_id"]),
        // Sums per period and unit, and per period, area and item, kept by every inspection's
        // write (`store::inspections::sums`): rankings and the shortfall list read these.
        Step::Table(sums_table("inspection_sums", false)),
        Step::Table(sums_table("inspection_item_sums", true)),
        // The shortfall list reads a few items' losses in every community and point of an
        // area from this index alone (it carries what it reads).
        idx("inspection_item_sums_item", "inspection_item_sums", &["grain", "item_code", "period", "unit_key", "failed", "lost"]),
        // Each case a failure opened or added to, by the day of the inspection and the point:
        // rectification on time is read from these and the cases, not from the item results.
        Step::Table(
            Table::create()
                .table("inspection_cases")
                .col(int("day"))
                .col(key("point_id"))
                .col(key("case_id"))
                .primary_key(Index::create().col("day").col("point_id").col("case_id"))
                .to_owned(),
        ),
    ]
}
