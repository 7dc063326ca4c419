//! Reading Koji's XML-RPC values tolerantly.
//!
//! Hubs of different versions send different members (`draft` came with Koji 1.34, `cg_id`
//! later than `owner_name`, …), and dxr's derived structs fail on any absent member even when
//! the field is an `Option`. So responses are decoded into a [`dxr::Value`] and the fields fbs
//! needs are picked from the struct by name ([`Members`]): a missing optional member is
//! `None`, a missing required one an error naming it. Integers arrive as `<int>` when they fit
//! in 32 bits and as `<i8>` otherwise; [`KojiInt`] and the getters accept both.

use std::collections::BTreeMap;

use dxr::{TryFromValue, TryToValue, Value};

/// A Koji integer: decodes from `<int>`/`<i4>` and from `<i8>`, encodes as `<int>` when the
/// value fits in 32 bits and as `<i8>` otherwise (as Koji's own marshaller does).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct KojiInt(pub i64);

impl TryFromValue for KojiInt {
    fn try_from_value(value: &Value) -> Result<Self, dxr::Error> {
        as_int(value)
            .map(KojiInt)
            .ok_or_else(|| dxr::Error::wrong_type(kind(value), "int or i8"))
    }
}

impl TryToValue for KojiInt {
    fn try_to_value(&self) -> Result<Value, dxr::Error> {
        Ok(int_value(self.0))
    }
}

/// `<int>` when `v` fits in 32 bits, else `<i8>`.
pub fn int_value(v: i64) -> Value {
    match i32::try_from(v) {
        Ok(small) => Value::Integer(small),
        Err(_) => Value::Long(v),
    }
}

/// The integer in `value`, whether sent as `<int>` or `<i8>`.
pub fn as_int(value: &Value) -> Option<i64> {
    match value {
        Value::Integer(i) => Some(i64::from(*i)),
        Value::Long(l) => Some(*l),
        _ => None,
    }
}

/// The XML-RPC type name of `value`, for messages.
pub fn kind(value: &Value) -> &'static str {
    match value {
        Value::Integer(_) => "int",
        Value::Long(_) => "i8",
        Value::Boolean(_) => "boolean",
        Value::String(_) => "string",
        Value::Double(_) => "double",
        Value::DateTime(_) => "dateTime.iso8601",
        Value::Base64(_) => "base64",
        Value::Struct(_) => "struct",
        Value::Array(_) => "array",
        Value::Nil => "nil",
        _ => "unknown",
    }
}

/// Why a member could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what}: {problem}")]
pub struct DecodeError {
    /// What was being read (`getBuild result`, `listRPMs entry 3`).
    pub what: String,
    /// What is wrong with it.
    pub problem: String,
}

/// The members of one XML-RPC struct, read by name.
#[derive(Debug, Clone, Copy)]
pub struct Members<'a> {
    what: &'a str,
    map: &'a BTreeMap<String, Value>,
}

impl<'a> Members<'a> {
    /// The struct in `value`; `what` names it in errors.
    pub fn of(value: &'a Value, what: &'a str) -> Result<Self, DecodeError> {
        match value {
            Value::Struct(map) => Ok(Members { what, map }),
            other => Err(DecodeError {
                what: what.to_owned(),
                problem: format!("expected a struct, got {}", kind(other)),
            }),
        }
    }

    fn err(&self, problem: String) -> DecodeError {
        DecodeError {
            what: self.what.to_owned(),
            problem,
        }
    }

    /// The raw member, `None` when absent or `<nil/>`.
    pub fn get(&self, key: &str) -> Option<&'a Value> {
        match self.map.get(key) {
            None | Some(Value::Nil) => None,
            Some(v) => Some(v),
        }
    }

    /// A required integer member.
    pub fn int(&self, key: &str) -> Result<i64, DecodeError> {
        self.opt_int(key)?
            .ok_or_else(|| self.err(format!("member `{key}` is missing")))
    }

    /// An optional integer member (absent or nil → `None`).
    pub fn opt_int(&self, key: &str) -> Result<Option<i64>, DecodeError> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => as_int(v)
                .map(Some)
                .ok_or_else(|| self.err(format!("member `{key}` is a {}, not an int", kind(v)))),
        }
    }

    /// A required string member.
    pub fn string(&self, key: &str) -> Result<String, DecodeError> {
        self.opt_string(key)?
            .ok_or_else(|| self.err(format!("member `{key}` is missing")))
    }

    /// An optional string member (absent or nil → `None`).
    pub fn opt_string(&self, key: &str) -> Result<Option<String>, DecodeError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(v) => Err(self.err(format!("member `{key}` is a {}, not a string", kind(v)))),
        }
    }

    /// A boolean member; absent or nil gives `default`. Koji sometimes sends flags as ints.
    pub fn flag(&self, key: &str, default: bool) -> Result<bool, DecodeError> {
        match self.get(key) {
            None => Ok(default),
            Some(Value::Boolean(b)) => Ok(*b),
            Some(v) => match as_int(v) {
                Some(i) => Ok(i != 0),
                None => Err(self.err(format!("member `{key}` is a {}, not a boolean", kind(v)))),
            },
        }
    }
}

/// Koji's keyword-argument struct: the members plus `__starstar: true`, passed as the last
/// positional parameter (the hub turns it back into `**kwargs`).
pub fn kwargs<I>(members: I) -> Value
where
    I: IntoIterator<Item = (&'static str, Value)>,
{
    let mut map: BTreeMap<String, Value> = members
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
    map.insert("__starstar".to_owned(), Value::Boolean(true));
    Value::Struct(map)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(xml: &str) -> Value {
        Value::from_xml(xml).expect("valid value")
    }

    #[test]
    fn ints_come_as_int_i4_or_i8() {
        for (xml, want) in [
            ("<value><int>7</int></value>", 7),
            ("<value><i4>-3</i4></value>", -3),
            ("<value><i8>6442450944</i8></value>", 6_442_450_944),
        ] {
            assert_eq!(
                KojiInt::try_from_value(&parse(xml)).expect(xml),
                KojiInt(want)
            );
        }
        let e = KojiInt::try_from_value(&parse("<value><string>7</string></value>"));
        assert!(e.is_err());
        assert_eq!(int_value(5), Value::Integer(5));
        assert_eq!(int_value(1 << 40), Value::Long(1 << 40));
        assert!(int_value(1 << 40).to_xml().expect("xml").contains("<i8>"));
    }

    #[test]
    fn members_tolerate_absence_and_nil_but_name_what_is_wrong() {
        let v = parse(
            "<value><struct>\
             <member><name>id</name><value><int>1</int></value></member>\
             <member><name>epoch</name><value><nil/></value></member>\
             <member><name>size</name><value><i8>5000000000</i8></value></member>\
             <member><name>name</name><value><string>bash</string></value></member>\
             <member><name>draft</name><value><boolean>1</boolean></value></member>\
             </struct></value>",
        );
        let m = Members::of(&v, "getBuild result").expect("struct");
        assert_eq!(m.int("id"), Ok(1));
        assert_eq!(m.opt_int("epoch"), Ok(None));
        assert_eq!(m.opt_int("absent"), Ok(None));
        assert_eq!(m.int("size"), Ok(5_000_000_000));
        assert_eq!(m.string("name").as_deref(), Ok("bash"));
        assert_eq!(m.flag("draft", false), Ok(true));
        assert_eq!(m.flag("absent", false), Ok(false));
        let e = m.int("name").expect_err("not an int");
        assert_eq!(
            e.to_string(),
            "getBuild result: member `name` is a string, not an int"
        );
        let e = m.string("version").expect_err("missing");
        assert!(e.to_string().contains("`version` is missing"), "{e}");
        assert!(Members::of(&Value::Nil, "x").is_err());
    }

    #[test]
    fn kwargs_carry_the_starstar_marker() {
        let v = kwargs([("buildID", int_value(3))]);
        let xml = v.to_xml().expect("xml");
        assert!(
            xml.contains("<name>__starstar</name><value><boolean>1</boolean>"),
            "{xml}"
        );
        assert!(xml.contains("<name>buildID</name>"), "{xml}");
    }
}
