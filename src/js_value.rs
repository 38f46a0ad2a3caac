//! JS values to JSON for option parsing, at the napi edge.
//!
//! napi's own serde conversion rejects `undefined` anywhere, but `{ threads: undefined }` is
//! how JS callers say "use the default"; here an undefined property is simply absent, and
//! every failure names the option path it happened at.

use napi::bindgen_prelude::{Array, BigInt, Object};
use napi::{JsValue, Unknown, ValueType};
use serde_json::{Map, Number, Value};

use crate::options::OptionError;

const MAX_DEPTH: u32 = 256;

/// `None` for `undefined`.
pub fn to_json(value: &Unknown, path: &str) -> Result<Option<Value>, OptionError> {
    convert(value, path, MAX_DEPTH)
}

fn convert(value: &Unknown, path: &str, depth: u32) -> Result<Option<Value>, OptionError> {
    let napi_err = |err: napi::Error| OptionError::type_error(path, err.reason.clone());
    if depth == 0 {
        return Err(OptionError::type_error(path, "is nested too deeply"));
    }
    let json = match value.get_type().map_err(napi_err)? {
        ValueType::Undefined => return Ok(None),
        ValueType::Null => Value::Null,
        ValueType::Boolean => Value::Bool(unsafe { value.cast::<bool>() }.map_err(napi_err)?),
        ValueType::String => Value::String(unsafe { value.cast::<String>() }.map_err(napi_err)?),
        ValueType::Number => {
            let number = unsafe { value.cast::<f64>() }.map_err(napi_err)?;
            number_to_json(number).ok_or_else(|| OptionError::type_error(path, format!("must be a finite number, got {number}")))?
        }
        ValueType::BigInt => {
            let big = unsafe { value.cast::<BigInt>() }.map_err(napi_err)?;
            let (signed, unsigned, lossless) = big.get_u64();
            if !lossless || (signed && unsigned != 0) {
                return Err(OptionError::range_error(path, "bigint is outside the unsigned 64-bit range"));
            }
            Value::Number(unsigned.into())
        }
        ValueType::Object => {
            if value.is_array().map_err(napi_err)? {
                let array = unsafe { value.cast::<Array>() }.map_err(napi_err)?;
                let mut items = Vec::with_capacity(array.len() as usize);
                for index in 0..array.len() {
                    let item_path = format!("{path}[{index}]");
                    let item: Unknown = array
                        .get(index)
                        .map_err(napi_err)?
                        .ok_or_else(|| OptionError::type_error(&item_path, "is missing"))?;
                    items.push(
                        convert(&item, &item_path, depth - 1)?
                            .ok_or_else(|| OptionError::type_error(&item_path, "is undefined"))?,
                    );
                }
                Value::Array(items)
            } else {
                let object = unsafe { value.cast::<Object>() }.map_err(napi_err)?;
                let mut fields = Map::new();
                for key in Object::keys(&object).map_err(napi_err)? {
                    let field_path = if path.is_empty() { key.clone() } else { format!("{path}.{key}") };
                    let Some(field) = object.get::<Unknown>(&key).map_err(napi_err)? else { continue };
                    if let Some(json) = convert(&field, &field_path, depth - 1)? {
                        fields.insert(key, json);
                    }
                }
                Value::Object(fields)
            }
        }
        ValueType::Function => return Err(OptionError::type_error(path, "must not be a function")),
        other => return Err(OptionError::type_error(path, format!("cannot be a {other}"))),
    };
    Ok(Some(json))
}

/// Integral doubles become JSON integers so that integer options can be checked exactly.
fn number_to_json(number: f64) -> Option<Value> {
    if !number.is_finite() {
        return None;
    }
    if number.fract() == 0.0 && number.abs() <= 9_007_199_254_740_991.0 {
        return Some(Value::Number(if number >= 0.0 {
            Number::from(number as u64)
        } else {
            Number::from(number as i64)
        }));
    }
    Number::from_f64(number).map(Value::Number)
}
