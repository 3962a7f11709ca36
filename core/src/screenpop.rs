//! The PestRoutes screen-pop: validating the middleware's `openCustomer` payload and
//! deciding what to search for (`spec/pestroutes-sse.md`).
//!
//! Values that reach the PestRoutes page are data for its search box, never code; they
//! are still refused when implausible, because a hostile or broken middleware should not
//! be able to type arbitrary text into the CRM.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Longest customer id accepted.
pub const MAX_CUSTOMER_ID_LEN: usize = 32;
/// Longest phone value accepted (with formatting).
pub const MAX_PHONE_LEN: usize = 40;

/// What to do for one `openCustomer` event.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScreenPop {
    pub customer_id: String,
    pub phone: String,
    /// Search terms to try in order: the phone as sent, the phone as bare national
    /// digits (PestRoutes formats may differ from 3CX's), then the customer id.
    pub search_terms: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ScreenPopError {
    NotJson(String),
    NotAnObject,
    WrongType(String),
    /// Neither a customer id nor a phone number.
    NothingToSearch,
    /// The event is addressed to another agent.
    OtherAgent(String),
    Implausible {
        field: &'static str,
        why: String,
    },
}

impl std::fmt::Display for ScreenPopError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ScreenPopError::NotJson(e) => write!(f, "openCustomer data is not JSON: {e}"),
            ScreenPopError::NotAnObject => write!(f, "openCustomer data is not a JSON object"),
            ScreenPopError::WrongType(t) => write!(f, "openCustomer data has type {t:?}"),
            ScreenPopError::NothingToSearch => write!(f, "openCustomer has neither customerID nor phone"),
            ScreenPopError::OtherAgent(_) => write!(f, "openCustomer addressed to another agent"),
            ScreenPopError::Implausible { field, why } => write!(f, "openCustomer {field} refused: {why}"),
        }
    }
}

impl std::error::Error for ScreenPopError {}

fn field(obj: &serde_json::Map<String, Value>, key: &'static str) -> Result<String, ScreenPopError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(String::new()),
        Some(Value::String(s)) => Ok(s.trim().to_owned()),
        // Pode serialises numbers as numbers when the script passes them through as such.
        Some(Value::Number(n)) => Ok(n.to_string()),
        Some(_) => Err(ScreenPopError::Implausible { field: key, why: "not a string".into() }),
    }
}

fn check(field: &'static str, value: &str, max: usize, allowed: impl Fn(char) -> bool) -> Result<(), ScreenPopError> {
    if value.chars().count() > max {
        return Err(ScreenPopError::Implausible { field, why: format!("longer than {max} characters") });
    }
    if let Some(c) = value.chars().find(|c| c.is_control()) {
        return Err(ScreenPopError::Implausible { field, why: format!("control character U+{:04X}", c as u32) });
    }
    if let Some(c) = value.chars().find(|c| !allowed(*c)) {
        return Err(ScreenPopError::Implausible { field, why: format!("character {c:?}") });
    }
    Ok(())
}

/// Bare national digits: "+1 (555) 123-4567" becomes "5551234567".
fn national_digits(phone: &str) -> String {
    let digits: String = phone.chars().filter(char::is_ascii_digit).collect();
    if digits.len() == 11 && digits.starts_with('1') {
        digits[1..].to_owned()
    } else {
        digits
    }
}

/// Validates an `openCustomer` event's data for `agent` (our extension number; empty
/// accepts any agent).
pub fn parse_open_customer(data: &str, agent: &str) -> Result<ScreenPop, ScreenPopError> {
    let value: Value = serde_json::from_str(data).map_err(|e| ScreenPopError::NotJson(e.to_string()))?;
    let Value::Object(obj) = value else {
        return Err(ScreenPopError::NotAnObject);
    };
    if let Some(t) = obj.get("type") {
        if t.as_str() != Some("openCustomer") {
            return Err(ScreenPopError::WrongType(t.to_string().chars().take(40).collect()));
        }
    }
    let to = field(&obj, "agent")?;
    if !agent.is_empty() && !to.is_empty() && to != agent {
        return Err(ScreenPopError::OtherAgent(to));
    }
    let customer_id = field(&obj, "customerID")?;
    let phone = field(&obj, "phone")?;
    check("customerID", &customer_id, MAX_CUSTOMER_ID_LEN, |c| c.is_ascii_alphanumeric() || c == '-' || c == '_')?;
    check("phone", &phone, MAX_PHONE_LEN, |c| c.is_ascii_digit() || " +-()./".contains(c))?;
    let mut search_terms = Vec::new();
    if phone.chars().any(|c| c.is_ascii_digit()) {
        search_terms.push(phone.clone());
        let bare = national_digits(&phone);
        if bare != phone {
            search_terms.push(bare);
        }
    }
    if !customer_id.is_empty() {
        search_terms.push(customer_id.clone());
    }
    if search_terms.is_empty() {
        return Err(ScreenPopError::NothingToSearch);
    }
    Ok(ScreenPop { customer_id, phone, search_terms })
}
