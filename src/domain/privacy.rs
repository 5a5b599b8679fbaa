//! Personal data is shown masked to everyone by default (PIPL); a role that needs a full
//! value asks for it, and that view is written to the access log.

crate::string_enum! {
    /// The records whose personal data can be revealed (and so appear in the access log).
    pub enum PersonalRecord {
        /// A case's reporter: name, phone, email.
        Case = "case",
        /// A person of the org: phone.
        Person = "person",
        /// A whole case export carrying reporters in full.
        CaseExport = "case_export",
        /// A volunteer's phone and ID number.
        Volunteer = "volunteer",
    }
}

/// `13812341234` → `138****1234`. Short or odd values keep only their last character.
pub fn mask_phone(phone: &str) -> String {
    let chars: Vec<char> = phone.trim().chars().collect();
    match chars.len() {
        0 => String::new(),
        n if n >= 7 => {
            let head: String = chars[..3].iter().collect();
            let tail: String = chars[n - 4..].iter().collect();
            format!("{head}****{tail}")
        }
        n => format!("{}{}", "*".repeat(n - 1), chars[n - 1]),
    }
}

/// Keeps the surname: `王建国` → `王**`.
pub fn mask_name(name: &str) -> String {
    let mut chars = name.trim().chars();
    match chars.next() {
        Some(first) => format!("{first}{}", "*".repeat(chars.count())),
        None => String::new(),
    }
}

/// `11010519491231002X` → `110***********002X`: the region's first digits and the last four.
pub fn mask_id_number(id: &str) -> String {
    let chars: Vec<char> = id.trim().chars().collect();
    match chars.len() {
        n if n >= 8 => {
            format!("{}{}{}", chars[..3].iter().collect::<String>(), "*".repeat(n - 7), chars[n - 4..].iter().collect::<String>())
        }
        n => "*".repeat(n),
    }
}

/// `zhang.san@example.com` → `z***@example.com`.
pub fn mask_email(email: &str) -> String {
    match email.trim().split_once('@') {
        Some((user, domain)) => format!("{}***@{domain}", user.chars().next().map(String::from).unwrap_or_default()),
        None => mask_name(email),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_mobile_numbers_like_chinese_apps_do() {
        assert_eq!(mask_phone("13812341234"), "138****1234");
        assert_eq!(mask_phone("0531-8888"), "053****8888");
        assert_eq!(mask_phone("123"), "**3");
        assert_eq!(mask_phone(""), "");
    }

    #[test]
    fn masks_id_numbers_keeping_region_and_tail() {
        assert_eq!(mask_id_number("11010519491231002X"), "110***********002X");
        assert_eq!(mask_id_number("123"), "***");
    }

    #[test]
    fn masks_email_keeping_the_domain() {
        assert_eq!(mask_email("zhang.san@example.com"), "z***@example.com");
    }

    #[test]
    fn masks_names_keeping_the_surname() {
        assert_eq!(mask_name("王建国"), "王**");
        assert_eq!(mask_name("李"), "李");
    }
}
