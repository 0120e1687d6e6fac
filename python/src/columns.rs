//! Output columns as numpy arrays, each made from its Rust `Vec` without a copy (numpy keeps
//! the `Vec` alive as the array's base). One function per column kind, so a change of what the
//! engine carries (columns in their stored type) touches only this file.

use numpy::IntoPyArray;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use strobe::export::columns::WindowColumns;
use strobe::export::PixelColumn;

/// `x`/`y`: uint16 pixels, or float32 when normalised.
fn pixels(py: Python<'_>, column: PixelColumn) -> Bound<'_, PyAny> {
    match column {
        PixelColumn::U16(v) => v.into_pyarray(py).into_any(),
        PixelColumn::F32(v) => v.into_pyarray(py).into_any(),
    }
}

/// A window as the dict `rec.window` returns: `x, y, t, p` arrays plus `t0, t1, first_index`.
pub fn window_dict(py: Python<'_>, w: WindowColumns) -> PyResult<Bound<'_, PyDict>> {
    let d = PyDict::new(py);
    let e = w.events;
    d.set_item("x", pixels(py, e.x))?;
    d.set_item("y", pixels(py, e.y))?;
    d.set_item("t", e.t.into_pyarray(py))?;
    d.set_item("p", e.p.into_pyarray(py))?;
    d.set_item("t0", w.window.from)?;
    d.set_item("t1", w.window.to)?;
    d.set_item("first_index", w.first_index)?;
    Ok(d)
}
