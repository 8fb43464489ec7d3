//! The page's state as the sections reach it: [`use_store`] to read it (the section
//! re-renders on every change), [`use_dispatch`] to change it without re-rendering.

use std::cell::RefCell;
use std::rc::Rc;

use yew::prelude::*;

use crate::state::State;

/// The page state, shared with every section through a context.
pub type Store = UseReducerHandle<State>;

/// Changing the state, and reading it when an event runs. It is the same on every render,
/// so components that take it and not `Store` do not re-render on every keystroke.
#[derive(Clone, Debug)]
pub struct Dispatch {
    dispatcher: UseReducerDispatcher<State>,
    /// The state as of the last render, for handlers that read it only when they run (a click).
    latest: Rc<RefCell<Store>>,
}

impl Dispatch {
    pub fn new(store: Store) -> Dispatch {
        Dispatch { dispatcher: store.dispatcher(), latest: Rc::new(RefCell::new(store)) }
    }

    /// Records the state of this render, for [`Dispatch::latest`].
    pub fn follow(&self, store: &Store) {
        *self.latest.borrow_mut() = store.clone();
    }

    pub fn dispatch(&self, action: crate::state::Action) {
        self.dispatcher.dispatch(action);
    }

    pub fn latest(&self) -> Store {
        self.latest.borrow().clone()
    }
}

impl PartialEq for Dispatch {
    fn eq(&self, other: &Self) -> bool {
        self.dispatcher == other.dispatcher && Rc::ptr_eq(&self.latest, &other.latest)
    }
}

/// A state of its own for a section rendered outside the page's providers, which the page
/// never does: such a section then shows an empty form and changes nothing else, instead of
/// the page panicking. It is made on the section's first render only, and is cheap (no
/// rules, so the core stops at validation).
#[hook]
fn use_detached() -> Store {
    use_reducer(|| State::from_spec(&cicd_access_core::AccessSpec::default()))
}

/// The page state; the calling section re-renders whenever it changes.
#[hook]
pub fn use_store() -> Store {
    let detached = use_detached();
    use_context::<Store>().unwrap_or(detached)
}

/// Changing the page state; the calling section does not re-render because of it.
#[hook]
pub fn use_dispatch() -> Dispatch {
    let detached = use_detached();
    let fallback = use_memo((), move |()| Dispatch::new(detached));
    use_context::<Dispatch>().unwrap_or_else(|| (*fallback).clone())
}
