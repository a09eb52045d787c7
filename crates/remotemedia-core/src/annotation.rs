//! Typed annotations that travel with audio.
//!
//! A node that finds something in audio (a voice activity detector's
//! decisions) hands the audio on unchanged with an [`Annotation`]:
//! `RuntimeData::Annotated { audio, annotation }`. The engine never knows
//! the annotation's type; the crate that defines it implements the trait:
//!
//! - [`Annotation::name`] is its kind (`"vad"`), the data's
//!   [`kind`](crate::RuntimeData::kind);
//! - [`Annotation::to_json`] is its JSON object, which the CLI prints, the
//!   remote server sends, and the Python bindings hand over as a dict;
//! - [`Annotation::join`] is its merge rule, used when the pieces one whole
//!   clip produced are joined into one value ([`crate::join::join_pieces`]).
//!
//! Readers that know the type downcast (`annotation.downcast_ref::<T>()`).
//! A kind registered with [`register_kind`] can also be rebuilt from its
//! JSON ([`from_json`]), which the remote client does with what a server
//! sent.
//!
//! An annotation may decorate another ([`Annotation::inner`]): the Python
//! bindings keep the keys a Python node added to a result dict this way.
//! Decorations are transparent: downcasts and joins see the annotation
//! inside, and a join keeps the decoration of the first piece that has one.

use std::any::Any;
use std::fmt;
use std::sync::{Arc, RwLock};

use serde_json::Value;

/// What a node found in a buffer of audio; see the module docs.
pub trait Annotation: Any + Send + Sync + fmt::Debug {
    /// The kind, e.g. `"vad"`; stable (printed, and matched by readers).
    fn name(&self) -> &'static str;

    /// The JSON form: an object.
    fn to_json(&self) -> Value;

    /// This annotation followed by `next`, the annotation of the next piece
    /// of the same clip, as one; `None` when `next` does not join this one
    /// (another kind), and then the first is kept. Called on the
    /// annotations inside any decoration.
    fn join(&self, next: &dyn Annotation) -> Option<Arc<dyn Annotation>>;

    /// True when it says nothing worth showing on its own (a detector that
    /// has decided no frame yet); printers may skip it. Default: false.
    fn is_empty(&self) -> bool {
        false
    }

    /// The annotation this one decorates, if it is a decoration.
    fn inner(&self) -> Option<&Arc<dyn Annotation>> {
        None
    }

    /// For a decoration: the same decoration around `inner` instead. Others
    /// return `inner`.
    fn decorate(&self, inner: Arc<dyn Annotation>) -> Arc<dyn Annotation> {
        inner
    }
}

impl dyn Annotation {
    /// The annotation as a `T`, looking inside decorations.
    pub fn downcast_ref<T: Annotation>(&self) -> Option<&T> {
        let any: &dyn Any = self;
        match any.downcast_ref::<T>() {
            Some(t) => Some(t),
            None => self.inner()?.downcast_ref::<T>(),
        }
    }

    /// The annotation inside every decoration.
    pub fn undecorated(&self) -> &dyn Annotation {
        match self.inner() {
            Some(inner) => inner.undecorated(),
            None => self,
        }
    }

    /// Equal when both are the same allocation, or of one kind with the same
    /// JSON form.
    pub fn same_as(&self, other: &dyn Annotation) -> bool {
        std::ptr::addr_eq(self, other) || (self.name() == other.name() && self.to_json() == other.to_json())
    }
}

/// Joins the annotations of consecutive pieces of one clip, in order (see
/// [`Annotation::join`]); `None` for none.
pub fn join_all(annotations: impl IntoIterator<Item = Arc<dyn Annotation>>) -> Option<Arc<dyn Annotation>> {
    let mut annotations = annotations.into_iter();
    let mut acc = annotations.next()?;
    for next in annotations {
        let Some(joined) = acc.undecorated().join(next.undecorated()) else {
            continue;
        };
        acc = if acc.inner().is_some() {
            acc.decorate(joined)
        } else {
            next.decorate(joined)
        };
    }
    Some(acc)
}

/// A kind of annotation that can be rebuilt from its JSON form.
#[derive(Debug, Clone, Copy)]
pub struct AnnotationKind {
    /// [`Annotation::name`] of the kind.
    pub name: &'static str,
    /// The annotation whose JSON form `value` is; `None` when `value` is not
    /// of this kind.
    pub from_json: fn(&Value) -> Option<Arc<dyn Annotation>>,
}

static KINDS: RwLock<Vec<AnnotationKind>> = RwLock::new(Vec::new());

/// Makes a kind known to [`from_json`], process-wide (a crate registering
/// its nodes registers the kinds they emit). Registering a name again
/// replaces its kind.
pub fn register_kind(kind: AnnotationKind) {
    let mut kinds = KINDS.write().unwrap_or_else(std::sync::PoisonError::into_inner);
    match kinds.iter_mut().find(|k| k.name == kind.name) {
        Some(k) => *k = kind,
        None => kinds.push(kind),
    }
}

/// The annotation whose JSON form `value` is, by the first registered kind
/// that takes it; `None` when no kind does.
pub fn from_json(value: &Value) -> Option<Arc<dyn Annotation>> {
    let kinds = KINDS.read().unwrap_or_else(std::sync::PoisonError::into_inner);
    kinds.iter().find_map(|k| (k.from_json)(value))
}
