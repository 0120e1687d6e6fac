//! Output columns as numpy arrays, each made from its Rust `Vec` without a copy (numpy keeps
//! the `Vec` alive as the array's base). Every column arrives in its stored integer type (or
//! the type an output option asks for), so each becomes the numpy array of that dtype.

use numpy::IntoPyArray;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use strobe::export::columns::WindowColumns;
use strobe::export::PixelColumn;
use strobe::hdf5::Values;

/// An integer column as the numpy array of its own dtype.
fn values(py: Python<'_>, column: Values) -> Bound<'_, PyAny> {
    match column {
        Values::I8(v) => v.into_pyarray(py).into_any(),
        Values::U8(v) => v.into_pyarray(py).into_any(),
        Values::I16(v) => v.into_pyarray(py).into_any(),
        Values::U16(v) => v.into_pyarray(py).into_any(),
        Values::I32(v) => v.into_pyarray(py).into_any(),
        Values::U32(v) => v.into_pyarray(py).into_any(),
        Values::I64(v) => v.into_pyarray(py).into_any(),
        Values::U64(v) => v.into_pyarray(py).into_any(),
    }
}

/// `x`/`y`: pixels in their stored type, or float32 when normalised.
fn pixels(py: Python<'_>, column: PixelColumn) -> Bound<'_, PyAny> {
    match column {
        PixelColumn::Stored(v) => values(py, v),
        PixelColumn::F32(v) => v.into_pyarray(py).into_any(),
    }
}

/// A window as the dict `rec.window` returns: `x, y, t, p` arrays plus `t0, t1, first_index`.
pub fn window_dict(py: Python<'_>, w: WindowColumns) -> PyResult<Bound<'_, PyDict>> {
    let d = PyDict::new(py);
    let e = w.events;
    d.set_item("x", pixels(py, e.x))?;
    d.set_item("y", pixels(py, e.y))?;
    d.set_item("t", values(py, e.t))?;
    d.set_item("p", values(py, e.p))?;
    d.set_item("t0", w.window.from)?;
    d.set_item("t1", w.window.to)?;
    d.set_item("first_index", w.first_index)?;
    Ok(d)
}
