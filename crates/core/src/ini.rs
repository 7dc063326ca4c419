//! The INI dialect of the 2012 service files (Python configparser, strict).
