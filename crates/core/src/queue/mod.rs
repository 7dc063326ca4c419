//! Queues and job stores: the trait every backend implements, and the embedded SQLite backend.
