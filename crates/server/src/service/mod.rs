//! What handlers share, below all of them: no handler module imports another one; the
//! ones that need the same operation find it here.

pub mod admission;
pub mod meetings;
pub mod policies;
