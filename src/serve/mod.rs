//! Placeholder, being written: HTTP server for the viewer and data files (Range, CORS).
