//! Migration 16: the 晒比评述 meeting of a bulletin — each unit's own account (述), submitted
//! beforehand, and the panel's scores and comments (评) entered during the meeting.

use super::*;

pub(super) fn steps() -> Vec<Step> {
    vec![
        Step::Table(
            Table::create()
                .table("meeting_accounts")
                .col(key("bulletin_id"))
                .col(key("unit_id"))
                .col(text("text"))
                .col(key("submitted_by"))
                .col(int("submitted_at"))
                .primary_key(Index::create().col("bulletin_id").col("unit_id"))
                .to_owned(),
        ),
        Step::Table(
            Table::create()
                .table("meeting_scores")
                .col(key("bulletin_id"))
                .col(key("unit_id"))
                .col(key("panelist_id"))
                .col(real("score"))
                .col(opt_text("comment"))
                .col(int("at"))
                .col(int("period_to"))
                .primary_key(Index::create().col("bulletin_id").col("unit_id").col("panelist_id"))
                .to_owned(),
        ),
        idx("meeting_scores_period", "meeting_scores", &["period_to", "unit_id"]),
    ]
}
