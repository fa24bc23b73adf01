//! The debug page's form, as the real console's: each interface's request parameters
//! prefilled from the chosen case, editable, checked against the spec's table for the
//! interface (required, length, the documented values) before anything is signed; what the
//! merchant changed becomes the case's [`FieldEdits`], applied before signing.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::console::journal::FieldEdits;
use crate::console::service::{ConsoleError, Service};
use crate::marketplace::Settings;
use crate::protocol::enumerations::documented_values;
use crate::protocol::fields::{Field, Kind, Presence};
use crate::protocol::{Activity, Request, UnixMillis};

/// One parameter of the form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub(crate) struct FormField {
    /// Its name on the wire.
    pub(crate) name: String,
    /// Its value: the case's, or as the merchant edited it (empty: left out).
    pub(crate) value: String,
    /// The case's own value (the form shows it again beside an edit that was refused).
    pub(crate) case_value: String,
    /// Whether the table makes it mandatory.
    pub(crate) required: bool,
    /// Its longest length in characters, when the table gives one.
    pub(crate) max: Option<usize>,
    /// Whether it holds a number.
    pub(crate) numeric: bool,
    /// The values the table documents, when it enumerates them.
    pub(crate) choices: Vec<&'static str>,
    /// What is wrong with the edited value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) error: Option<String>,
}

/// The form of one case of an interface.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub(crate) struct DebugForm {
    /// The interface.
    pub(crate) activity: String,
    /// The case.
    pub(crate) variant: usize,
    /// Its parameters, in the table's order.
    pub(crate) fields: Vec<FormField>,
}

impl DebugForm {
    /// Whether an edited value broke its table.
    pub(crate) fn has_errors(&self) -> bool {
        self.fields.iter().any(|f| f.error.is_some())
    }

    /// `orderId: at most 64 characters (70 given); scene: one of …`, for the API's 400.
    pub(crate) fn errors(&self) -> String {
        let errors: Vec<String> = self
            .fields
            .iter()
            .filter_map(|f| Some(format!("{}: {}", f.name, f.error.as_ref()?)))
            .collect();
        errors.join("; ")
    }
}

/// The debug request of a case, as the marketplace builds it.
pub(super) fn case_request(
    settings: &Settings,
    activity: Activity,
    variant: usize,
    now: UnixMillis,
) -> Result<Request, ConsoleError> {
    let mut ids = crate::marketplace::ids::Ids::new(rand::random());
    crate::marketplace::requests::debug_request(settings, &mut ids, activity, variant, now)
        .ok_or_else(|| {
            ConsoleError::Invalid(format!(
                "{activity} has no debug case {variant} in this protocol"
            ))
        })
}

/// The request's own parameters, as text (V1's query, V2's top-level body fields; nested
/// objects are not edited on the form).
fn values_of(request: &Request) -> BTreeMap<String, String> {
    match request {
        Request::V1(request) => request
            .to_params()
            .into_iter()
            .filter(|(name, _)| *name != "activity")
            .map(|(name, value)| (name.to_owned(), value.to_owned()))
            .collect(),
        Request::V2(request) => scalars(request.to_body()),
        Request::Kit(sync) => scalars(sync.to_body()),
    }
}

/// A body's top-level text and number fields.
fn scalars(body: serde_json::Map<String, Value>) -> BTreeMap<String, String> {
    body.into_iter()
        .filter(|(name, _)| name != "activity")
        .filter_map(|(name, value)| match value {
            Value::String(text) => Some((name, text)),
            Value::Number(number) => Some((name, number.to_string())),
            _ => None,
        })
        .collect()
}

/// The interface's table.
fn table_of(request: &Request) -> &'static [Field] {
    let activity = request.activity();
    match request {
        Request::V1(_) => crate::protocol::v1::messages::Request::table(activity),
        Request::V2(_) => crate::protocol::v2::messages::Request::table(activity),
        Request::Kit(_) => crate::protocol::v2::kit_sync::KitSync::table(activity),
    }
    .unwrap_or_default()
}

/// The form of a case: every scalar parameter of the interface's table, with the case's
/// value (empty where the case leaves it out).
pub(crate) fn form_of(request: &Request, variant: usize) -> DebugForm {
    let protocol = request.protocol();
    let activity = request.activity();
    let values = values_of(request);
    let fields = table_of(request)
        .iter()
        .filter(|f| f.name != "activity")
        .filter_map(|field| {
            let (max, numeric) = match field.kind {
                Kind::Text { max } => (Some(max), false),
                Kind::Number | Kind::Integer => (None, true),
                Kind::Object(_) | Kind::List(_) => return None,
            };
            let value = values.get(field.name).cloned().unwrap_or_default();
            Some(FormField {
                name: field.name.to_owned(),
                case_value: value.clone(),
                value,
                required: field.presence != Presence::Optional,
                max,
                numeric,
                choices: documented_values(protocol, activity, field.name)
                    .unwrap_or_default()
                    .to_vec(),
                error: None,
            })
        })
        .collect();
    DebugForm {
        activity: activity.slug().to_owned(),
        variant,
        fields,
    }
}

/// The edits that turn a case's request into `wanted` (a reproduced production request): every
/// parameter it sets that the case lacks or holds otherwise, and every one of the case's that
/// it leaves out.
pub(crate) fn edits_between(case: &Request, wanted: &Request) -> FieldEdits {
    let (case, wanted) = (values_of(case), values_of(wanted));
    FieldEdits {
        set: wanted
            .iter()
            .filter(|(name, value)| case.get(*name) != Some(*value))
            .map(|(name, value)| (name.clone(), value.clone()))
            .collect(),
        remove: case
            .keys()
            .filter(|name| !wanted.contains_key(*name))
            .cloned()
            .collect(),
    }
}

/// What is wrong with a value of a field, if anything.
fn problem(field: &FormField, value: &str) -> Option<String> {
    if value.is_empty() {
        return field.required.then(|| "required".to_owned());
    }
    let length = value.chars().count();
    if let Some(max) = field.max.filter(|max| length > *max) {
        return Some(format!("at most {max} characters ({length} given)"));
    }
    if field.numeric && value.parse::<f64>().is_err() {
        return Some("a number".to_owned());
    }
    if !field.choices.is_empty() && !field.choices.contains(&value) {
        return Some(format!("one of {}", field.choices.join(", ")));
    }
    None
}

/// Applies the submitted values to the case's form: each checked against its table (the
/// error shown beside it), and what differs from the case collected as edits. A submitted
/// name the table does not have is refused, as the form has no such field.
pub(crate) fn apply(
    form: &mut DebugForm,
    submitted: &BTreeMap<String, String>,
) -> Result<FieldEdits, ConsoleError> {
    if let Some(unknown) = submitted
        .keys()
        .find(|name| !form.fields.iter().any(|f| &f.name == *name))
    {
        return Err(ConsoleError::Invalid(format!(
            "{} has no parameter {unknown}",
            form.activity
        )));
    }
    let mut edits = FieldEdits::default();
    for field in &mut form.fields {
        let Some(value) = submitted.get(&field.name).map(|v| v.trim().to_owned()) else {
            continue;
        };
        field.error = problem(field, &value);
        if value == field.value {
            continue;
        }
        if value.is_empty() {
            edits.remove.push(field.name.clone());
        } else {
            edits.set.push((field.name.clone(), value.clone()));
        }
        field.value = value;
    }
    Ok(edits)
}

impl Service {
    /// The debug page's form of a case, with `submitted` values applied and checked.
    pub(crate) async fn debug_form(
        &self,
        product: i64,
        activity: &str,
        variant: usize,
        submitted: &BTreeMap<String, String>,
    ) -> Result<(DebugForm, FieldEdits), ConsoleError> {
        let parsed: Activity = activity
            .parse()
            .map_err(|_| ConsoleError::Invalid(format!("unknown interface {activity}")))?;
        let settings = {
            let lock = self.product(product)?;
            let live = lock.lock().await;
            live.engine.settings().clone()
        };
        let request = case_request(&settings, parsed, variant, self.now())?;
        let mut form = form_of(&request, variant);
        let edits = apply(&mut form, submitted)?;
        Ok((form, edits))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{AccessKey, Protocol};

    fn form(protocol: Protocol, activity: Activity, variant: usize) -> DebugForm {
        let settings = Settings::new(protocol, AccessKey::new("k"));
        let request =
            case_request(&settings, activity, variant, UnixMillis(1_795_000_000_000)).unwrap();
        form_of(&request, variant)
    }

    fn field<'a>(form: &'a DebugForm, name: &str) -> &'a FormField {
        form.fields.iter().find(|f| f.name == name).unwrap()
    }

    #[test]
    fn the_form_is_the_interfaces_table_prefilled_from_the_case() {
        let form = form(Protocol::V1, Activity::NewInstance, 2);
        let trial = field(&form, "trialFlag");
        assert_eq!(trial.value, "1", "case 2 is a trial");
        assert_eq!(trial.choices, ["0", "1"]);
        assert!(!trial.required);
        let order = field(&form, "orderId");
        assert!(order.required && order.max == Some(64), "{order:?}");
        assert!(!order.value.is_empty());
        assert!(form.fields.iter().all(|f| f.name != "activity"));
        let v2 = self::form(Protocol::V2, Activity::RefreshInstance, 0);
        assert_eq!(field(&v2, "scene").choices.len(), 4);
    }

    #[test]
    fn edits_are_checked_against_the_table_and_kept_as_changes() {
        let mut form = form(Protocol::V2, Activity::RefreshInstance, 0);
        let order = field(&form, "orderId").value.clone();
        let submitted = BTreeMap::from([
            ("orderId".to_owned(), order),
            ("scene".to_owned(), "RENEWAL_CHANGE".to_owned()),
            ("testFlag".to_owned(), String::new()),
        ]);
        let edits = apply(&mut form, &submitted).unwrap();
        assert!(!form.has_errors(), "{}", form.errors());
        assert_eq!(
            edits.set,
            [("scene".to_owned(), "RENEWAL_CHANGE".to_owned())]
        );
        assert_eq!(edits.remove, ["testFlag"]);

        let mut form = self::form(Protocol::V2, Activity::RefreshInstance, 0);
        let submitted = BTreeMap::from([
            ("orderId".to_owned(), "C".repeat(65)),
            ("scene".to_owned(), "RENEW".to_owned()),
            ("instanceId".to_owned(), String::new()),
        ]);
        apply(&mut form, &submitted).unwrap();
        assert_eq!(
            field(&form, "orderId").error.as_deref(),
            Some("at most 64 characters (65 given)")
        );
        assert!(
            field(&form, "scene")
                .error
                .as_deref()
                .unwrap()
                .starts_with("one of TRIAL_TO_FORMAL")
        );
        assert_eq!(
            field(&form, "instanceId").error.as_deref(),
            Some("required")
        );
        assert!(
            form.errors().contains("orderId: at most 64"),
            "{}",
            form.errors()
        );

        let mut form = self::form(Protocol::V1, Activity::NewInstance, 0);
        let unknown = BTreeMap::from([("colour".to_owned(), "red".to_owned())]);
        assert!(apply(&mut form, &unknown).is_err());
    }
}
