//! fbs-monitor
