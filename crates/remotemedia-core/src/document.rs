//! Manifest documents: JSON or YAML text read into a JSON value, strictly.
//!
//! Both formats go through one [`serde`] visitor, so a document means the same
//! whichever format it is written in, and the same rules hold for both:
//!
//! - a key appears at most once in a mapping (a duplicate is refused, not
//!   "last wins");
//! - numbers are finite (YAML's `.nan` and `.inf` are refused; JSON has
//!   none), so no number silently turns into `null` ("not set");
//! - mapping keys are strings;
//! - nesting is at most [`MAX_DEPTH`] levels.
//!
//! Each refusal names the path of what was refused (`nodes[0].params.factor`).
//!
//! YAML is read by `serde-saphyr` (pure Rust, maintained; chosen over
//! `serde_yaml_ng`, whose `unsafe-libyaml` is archived, and over `saphyr`'s
//! tree loader, which expands aliases into copies and keeps the last of
//! duplicate keys). It follows YAML 1.2's core schema, as set here: only
//! `true`/`false` are booleans (`on`, `no`, `yes`, `off` are strings), `0777`
//! is the number 777.0 (not YAML 1.1's octal 511; octal is `0o777`), `1e3`
//! is the number 1000.0. Its
//! budgets bound what a hostile document costs: nesting, events, and alias
//! expansion (a "billion laughs" document is refused after
//! [`MAX_ALIAS_EVENTS`] replayed events).

use std::cell::RefCell;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

use crate::error::{ManifestError, Problem};

/// Deepest nesting of mappings and sequences a manifest may have (a v1
/// manifest needs four levels, plus whatever node params hold).
pub const MAX_DEPTH: usize = 64;

/// Most events that YAML aliases may replay in one document, in all.
pub const MAX_ALIAS_EVENTS: usize = 100_000;

/// Parses JSON text into a value (stage 1 of manifest parsing).
pub fn parse_json(text: &str) -> Result<Value, ManifestError> {
    let refusal = RefCell::default();
    let mut de = serde_json::Deserializer::from_str(text);
    let parsed = Strict::root(&refusal)
        .deserialize(&mut de)
        .and_then(|value| de.end().map(|()| value));
    finish(parsed, refusal, "JSON", |_| None)
}

/// Parses YAML text (one document) into a value (stage 1 of manifest parsing).
pub fn parse_yaml(text: &str) -> Result<Value, ManifestError> {
    let refusal = RefCell::default();
    let options = serde_saphyr::options! {
        budget: serde_saphyr::budget! {
            // The parser's own limits sit above ours, so that our check, which
            // names the path, is the one that refuses.
            max_depth: MAX_DEPTH + 2,
            flow_nesting_limit: MAX_DEPTH + 2,
        },
        alias_limits: serde_saphyr::alias_limits! {
            max_total_replayed_events: MAX_ALIAS_EVENTS,
        },
        // Duplicates reach the visitor, which refuses them with their path.
        duplicate_keys: serde_saphyr::options::DuplicateKeyPolicy::LastWins,
        strict_booleans: true,
        legacy_octal_numbers: false,
        with_snippet: false,
    };
    let parsed = serde_saphyr::with_deserializer_from_str_with_options(text, options, |de| {
        Strict::root(&refusal).deserialize(de)
    });
    // The parser refuses non-finite numbers itself (a JSON value has no
    // NaN); the refusal is reported like ours, at the path where it happened.
    finish(parsed, refusal, "YAML", |e| match e {
        serde_saphyr::Error::NonFiniteFloat { value, .. } => Some(not_finite(value)),
        _ => None,
    })
}

/// What went wrong where, recorded on the way up: a refusal of ours, and the
/// path of the innermost value whose reading failed.
#[derive(Default)]
struct Refusal {
    problem: Option<Problem>,
    failed_at: Option<String>,
}

/// Turns a failed read into a manifest error: a refusal of ours (or one of the
/// parser's that `classify` recognises, at the path where it happened) is a
/// problem with a path; anything else is a syntax error.
fn finish<E: fmt::Display>(
    parsed: Result<Value, E>,
    refusal: RefCell<Refusal>,
    format: &'static str,
    classify: impl FnOnce(&E) -> Option<String>,
) -> Result<Value, ManifestError> {
    parsed.map_err(|e| {
        let Refusal { problem, failed_at } = refusal.into_inner();
        let problem = problem.or_else(|| {
            Some(Problem {
                path: failed_at?,
                node_id: None,
                message: classify(&e)?,
            })
        });
        match problem {
            Some(problem) => ManifestError::Invalid(vec![problem]),
            None => ManifestError::Syntax {
                format,
                message: e.to_string(),
            },
        }
    })
}

fn not_finite(value: impl fmt::Display) -> String {
    format!("{value} is not a finite number; manifests take finite numbers only")
}

/// Reads one value at `path`, `depth` levels down, refusing what the module
/// doc lists. A refusal is recorded in `refusal` (with its path) before the
/// error goes up through the deserializer, which only carries text.
struct Strict<'r> {
    refusal: &'r RefCell<Refusal>,
    path: String,
    depth: usize,
}

impl<'r> Strict<'r> {
    fn root(refusal: &'r RefCell<Refusal>) -> Self {
        Self {
            refusal,
            path: String::new(),
            depth: 0,
        }
    }

    fn child(&self, segment: Segment<'_>) -> Self {
        let path = match segment {
            Segment::Index(i) => format!("{}[{i}]", self.path),
            Segment::Key(k) if self.path.is_empty() => k.to_owned(),
            Segment::Key(k) => format!("{}.{k}", self.path),
        };
        Self {
            refusal: self.refusal,
            path,
            depth: self.depth + 1,
        }
    }

    fn refuse<E: de::Error>(&self, path: String, message: String) -> E {
        let error = E::custom(format!("{path}: {message}"));
        self.refusal.borrow_mut().problem.get_or_insert(Problem {
            path,
            node_id: None,
            message,
        });
        error
    }

    fn enter<E: de::Error>(&self) -> Result<(), E> {
        if self.depth >= MAX_DEPTH {
            return Err(self.refuse(self.path.clone(), format!("nested deeper than {MAX_DEPTH} levels")));
        }
        Ok(())
    }
}

enum Segment<'a> {
    Index(usize),
    Key(&'a str),
}

impl<'de> DeserializeSeed<'de> for Strict<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        let refusal = self.refusal;
        let path = self.path.clone();
        deserializer.deserialize_any(self).inspect_err(|_| {
            refusal.borrow_mut().failed_at.get_or_insert(path);
        })
    }
}

impl<'de> Visitor<'de> for Strict<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON-like value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_i128<E: de::Error>(self, v: i128) -> Result<Value, E> {
        match i64::try_from(v) {
            Ok(v) => Ok(Value::from(v)),
            Err(_) => Err(self.refuse(self.path.clone(), format!("integer {v} is out of range"))),
        }
    }

    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Value, E> {
        match u64::try_from(v) {
            Ok(v) => Ok(Value::from(v)),
            Err(_) => Err(self.refuse(self.path.clone(), format!("integer {v} is out of range"))),
        }
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        match Number::from_f64(v) {
            Some(n) => Ok(Value::Number(n)),
            None => Err(self.refuse(self.path.clone(), not_finite(v))),
        }
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        self.deserialize(deserializer)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        self.enter()?;
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(self.child(Segment::Index(items.len())))? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        self.enter()?;
        let mut entries = Map::new();
        while let Some(key) = map.next_key_seed(Key(&self))? {
            let value = map.next_value_seed(self.child(Segment::Key(&key)))?;
            if entries.contains_key(&key) {
                let at = self.child(Segment::Key(&key)).path;
                return Err(self.refuse(at, "duplicate key (each key may appear once)".into()));
            }
            entries.insert(key, value);
        }
        Ok(Value::Object(entries))
    }
}

/// A mapping key: a string.
struct Key<'s, 'r>(&'s Strict<'r>);

impl<'de> DeserializeSeed<'de> for Key<'_, '_> {
    type Value = String;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<String, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Key<'_, '_> {
    type Value = String;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string key")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
        Ok(v.to_owned())
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<String, E> {
        Ok(v)
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<String, E> {
        Err(self.not_a_string(&v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<String, E> {
        Err(self.not_a_string(&v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<String, E> {
        Err(self.not_a_string(&v))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<String, E> {
        Err(self.not_a_string(&v))
    }

    fn visit_unit<E: de::Error>(self) -> Result<String, E> {
        Err(self.not_a_string(&"null"))
    }
}

impl Key<'_, '_> {
    fn not_a_string<E: de::Error>(&self, key: &dyn fmt::Display) -> E {
        self.0.refuse(
            self.0.path.clone(),
            format!("mapping key {key} is not a string (quote it)"),
        )
    }
}
