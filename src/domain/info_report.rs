//! Info reports (信息报送): short reports a community, department or team sends to the
//! campaign office — work news, good practice, problems and suggestions — and the publicity
//! group's review: adopt (approve), return for changes, or reject. Pure: no I/O.

crate::string_enum! {
    /// What a report is about.
    pub enum ReportKind {
        /// 工作动态.
        News = "news" | "工作动态",
        /// 经验做法.
        Practice = "practice" | "经验做法",
        /// 问题建议.
        Suggestion = "suggestion" | "问题建议",
    }
}

crate::string_enum! {
    /// A report's life: waiting for review, adopted, returned for changes (the unit edits and
    /// sends it again), or rejected (final).
    pub enum ReportStatus {
        Submitted = "submitted" | "待审核",
        Approved = "approved" | "已采用",
        Returned = "returned" | "已退回",
        Rejected = "rejected" | "未采用",
    }
}

crate::string_enum! {
    /// The reviewer's decision.
    pub enum Decision {
        Approve = "approve" | "采用",
        Return = "return" | "退回",
        Reject = "reject" | "不采用",
    }
}

pub const MAX_TITLE: usize = 60;
pub const MAX_BODY: usize = 5_000;

/// Why a report or a review is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportError {
    Title,
    Body,
    /// Only a report waiting for review can be reviewed.
    NotWaiting,
    /// Only a returned report can be changed and sent again.
    NotReturned,
    /// Nobody reviews their own report.
    OwnReport,
    /// A return or a rejection says why.
    NoteRequired,
}

/// Checks a report's title and text.
pub fn check(title: &str, body: &str) -> Result<(), ReportError> {
    let t = title.trim();
    if t.is_empty() || t.chars().count() > MAX_TITLE {
        return Err(ReportError::Title);
    }
    let b = body.trim();
    if b.is_empty() || b.chars().count() > MAX_BODY {
        return Err(ReportError::Body);
    }
    Ok(())
}

/// The status a review leaves, if the reviewer may give it.
pub fn review(
    status: ReportStatus,
    submitter: &str,
    reviewer: &str,
    decision: Decision,
    note: Option<&str>,
) -> Result<ReportStatus, ReportError> {
    if status != ReportStatus::Submitted {
        return Err(ReportError::NotWaiting);
    }
    if submitter == reviewer {
        return Err(ReportError::OwnReport);
    }
    let noted = note.is_some_and(|n| !n.trim().is_empty());
    Ok(match decision {
        Decision::Approve => ReportStatus::Approved,
        Decision::Return if noted => ReportStatus::Returned,
        Decision::Reject if noted => ReportStatus::Rejected,
        _ => return Err(ReportError::NoteRequired),
    })
}

/// Whether a report may be changed and sent again.
pub fn may_resubmit(status: ReportStatus) -> Result<(), ReportError> {
    if status == ReportStatus::Returned { Ok(()) } else { Err(ReportError::NotReturned) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_review_needs_a_waiting_report_another_reviewer_and_a_reason_to_refuse() {
        let ok = review(ReportStatus::Submitted, "a", "b", Decision::Approve, None);
        assert_eq!(ok, Ok(ReportStatus::Approved));
        assert_eq!(review(ReportStatus::Submitted, "a", "a", Decision::Approve, None), Err(ReportError::OwnReport));
        assert_eq!(review(ReportStatus::Approved, "a", "b", Decision::Reject, Some("重复")), Err(ReportError::NotWaiting));
        assert_eq!(review(ReportStatus::Submitted, "a", "b", Decision::Return, Some("  ")), Err(ReportError::NoteRequired));
        assert_eq!(review(ReportStatus::Submitted, "a", "b", Decision::Return, Some("补充照片")), Ok(ReportStatus::Returned));
        assert_eq!(review(ReportStatus::Submitted, "a", "b", Decision::Reject, Some("非本辖区")), Ok(ReportStatus::Rejected));
    }

    #[test]
    fn titles_and_texts_are_bounded_and_only_returned_reports_go_again() {
        assert_eq!(check("  ", "正文"), Err(ReportError::Title));
        assert_eq!(check(&"字".repeat(MAX_TITLE + 1), "正文"), Err(ReportError::Title));
        assert_eq!(check("标题", ""), Err(ReportError::Body));
        assert!(check("开元社区开展楼道清理", "组织志愿者 30 人……").is_ok());
        assert!(may_resubmit(ReportStatus::Returned).is_ok());
        assert_eq!(may_resubmit(ReportStatus::Approved), Err(ReportError::NotReturned));
    }
}
