//! Borsh values to JSON, in the form Uho stores: integers as numbers when exact, else decimal
//! strings; public keys base58; `bytes` as `\x` + hex (a Postgres bytea literal).
//!
//! Strict where Anchor is not: reading past the end is an error (Anchor sometimes fills
//! zeros), and the caller checks that the whole payload was consumed.

use std::collections::HashMap;

use serde_json::{Map, Number, Value};

use super::idl::{ArrayLen, Fields, GenericArg, Ty, TypeBody, TypeDef};

const MAX_SAFE_INTEGER: u128 = (1 << 53) - 1;
/// Nested `defined` types deeper than this are a cycle or an attack, not a real layout.
const MAX_DEPTH: usize = 64;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecodeError {
    /// The layout wants more bytes than the payload has.
    TooShort { needed: usize, at: usize },
    /// The layout was read in full but bytes were left over.
    TrailingBytes { left: usize },
    Invalid(String),
}

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DecodeError::TooShort { needed, at } => write!(f, "payload too short: {needed} more byte(s) needed at offset {at}"),
            DecodeError::TrailingBytes { left } => write!(f, "{left} trailing byte(s) after the layout"),
            DecodeError::Invalid(message) => f.write_str(message),
        }
    }
}

type Decoded<T> = Result<T, DecodeError>;

pub struct Reader<'a> {
    bytes: &'a [u8],
    offset: usize,
    types: &'a HashMap<String, TypeDef>,
}

/// Generic parameters bound for the type being read.
#[derive(Clone, Default)]
struct Bindings {
    types: HashMap<String, Ty>,
    consts: HashMap<String, usize>,
}

impl<'a> Reader<'a> {
    pub fn new(bytes: &'a [u8], types: &'a HashMap<String, TypeDef>) -> Self {
        Self { bytes, offset: 0, types }
    }

    pub fn remaining(&self) -> usize {
        self.bytes.len() - self.offset
    }

    pub fn finish(&self) -> Decoded<()> {
        match self.remaining() {
            0 => Ok(()),
            left => Err(DecodeError::TrailingBytes { left }),
        }
    }

    fn take(&mut self, count: usize) -> Decoded<&'a [u8]> {
        if self.remaining() < count {
            return Err(DecodeError::TooShort { needed: count - self.remaining(), at: self.offset });
        }
        let slice = &self.bytes[self.offset..self.offset + count];
        self.offset += count;
        Ok(slice)
    }

    fn array<const N: usize>(&mut self) -> Decoded<[u8; N]> {
        Ok(self.take(N)?.try_into().expect("take returned N bytes"))
    }

    pub fn fields(&mut self, fields: &Fields) -> Decoded<Value> {
        self.fields_in(fields, &Bindings::default(), 0)
    }

    pub fn value(&mut self, ty: &Ty) -> Decoded<Value> {
        self.read(ty, &Bindings::default(), 0)
    }

    fn fields_in(&mut self, fields: &Fields, bindings: &Bindings, depth: usize) -> Decoded<Value> {
        Ok(match fields {
            Fields::Unit => Value::Object(Map::new()),
            Fields::Named(named) => {
                let mut object = Map::with_capacity(named.len());
                for (name, ty) in named {
                    object.insert(name.clone(), self.read(ty, bindings, depth + 1)?);
                }
                Value::Object(object)
            }
            Fields::Tuple(types) => {
                let mut object = Map::with_capacity(types.len());
                for (index, ty) in types.iter().enumerate() {
                    object.insert(index.to_string(), self.read(ty, bindings, depth + 1)?);
                }
                Value::Object(object)
            }
        })
    }

    fn read(&mut self, ty: &Ty, bindings: &Bindings, depth: usize) -> Decoded<Value> {
        if depth > MAX_DEPTH {
            return Err(DecodeError::Invalid("type nesting too deep (a recursive type?)".into()));
        }
        Ok(match ty {
            Ty::Bool => match self.array::<1>()?[0] {
                0 => Value::Bool(false),
                1 => Value::Bool(true),
                other => return Err(DecodeError::Invalid(format!("bool byte {other} at offset {}", self.offset - 1))),
            },
            Ty::U8 => Value::from(self.array::<1>()?[0]),
            Ty::I8 => Value::from(self.array::<1>()?[0] as i8),
            Ty::U16 => Value::from(u16::from_le_bytes(self.array()?)),
            Ty::I16 => Value::from(i16::from_le_bytes(self.array()?)),
            Ty::U32 => Value::from(u32::from_le_bytes(self.array()?)),
            Ty::I32 => Value::from(i32::from_le_bytes(self.array()?)),
            Ty::U64 => unsigned(u64::from_le_bytes(self.array()?) as u128),
            Ty::I64 => signed(i64::from_le_bytes(self.array()?) as i128),
            Ty::U128 => unsigned(u128::from_le_bytes(self.array()?)),
            Ty::I128 => signed(i128::from_le_bytes(self.array()?)),
            Ty::F32 => float(f32::from_le_bytes(self.array()?) as f64),
            Ty::F64 => float(f64::from_le_bytes(self.array()?)),
            Ty::String => {
                let length = self.length()?;
                Value::String(String::from_utf8_lossy(self.take(length)?).into_owned())
            }
            Ty::Bytes => {
                let length = self.length()?;
                Value::String(bytea(self.take(length)?))
            }
            Ty::Pubkey => Value::String(bs58::encode(self.take(32)?).into_string()),
            Ty::Option(inner) => match self.array::<1>()?[0] {
                0 => Value::Null,
                1 => self.read(inner, bindings, depth + 1)?,
                tag => return Err(DecodeError::Invalid(format!("option tag {tag} at offset {}", self.offset - 1))),
            },
            Ty::COption(inner) => match u32::from_le_bytes(self.array()?) {
                0 => Value::Null,
                1 => self.read(inner, bindings, depth + 1)?,
                tag => return Err(DecodeError::Invalid(format!("coption tag {tag} at offset {}", self.offset - 4))),
            },
            Ty::Vec(inner) => {
                let length = self.length()?;
                self.sequence(inner, length, bindings, depth)?
            }
            Ty::Array(inner, length) => {
                let length = match length {
                    ArrayLen::Fixed(length) => *length,
                    ArrayLen::Generic(name) => *bindings
                        .consts
                        .get(name)
                        .ok_or_else(|| DecodeError::Invalid(format!("unbound array length generic {name}")))?,
                };
                self.sequence(inner, length, bindings, depth)?
            }
            Ty::Generic(name) => {
                let bound = bindings
                    .types
                    .get(name)
                    .cloned()
                    .ok_or_else(|| DecodeError::Invalid(format!("unbound generic type {name}")))?;
                self.read(&bound, bindings, depth + 1)?
            }
            Ty::Defined { name, generics } => {
                let types = self.types;
                let def = types.get(name).ok_or_else(|| DecodeError::Invalid(format!("type {name} is not defined in the IDL")))?;
                let inner = bind(def, generics, bindings, name)?;
                match &def.body {
                    TypeBody::Struct(fields) => self.fields_in(fields, &inner, depth + 1)?,
                    TypeBody::Alias(alias) => self.read(alias, &inner, depth + 1)?,
                    TypeBody::Enum(variants) => {
                        let tag = self.array::<1>()?[0] as usize;
                        let variant = variants.get(tag).ok_or_else(|| {
                            DecodeError::Invalid(format!("enum {name} has no variant {tag} (offset {})", self.offset - 1))
                        })?;
                        let mut object = Map::new();
                        object.insert(variant.name.clone(), self.fields_in(&variant.fields, &inner, depth + 1)?);
                        Value::Object(object)
                    }
                }
            }
        })
    }

    fn length(&mut self) -> Decoded<usize> {
        Ok(u32::from_le_bytes(self.array()?) as usize)
    }

    fn sequence(&mut self, inner: &Ty, length: usize, bindings: &Bindings, depth: usize) -> Decoded<Value> {
        // Every element but a unit struct reads at least one byte, so a declared length past
        // the remaining bytes is a short payload, found before anything is allocated.
        let maybe_empty = matches!(inner, Ty::Defined { .. } | Ty::Generic(_));
        if length > self.remaining() && !maybe_empty {
            return Err(DecodeError::TooShort { needed: length - self.remaining(), at: self.offset });
        }
        let mut items = Vec::with_capacity(length.min(self.remaining()));
        for index in 0..length {
            let before = self.offset;
            items.push(self.read(inner, bindings, depth + 1)?);
            if index == 0 && self.offset == before && length > self.remaining() {
                return Err(DecodeError::Invalid(format!("{length} zero-sized elements")));
            }
        }
        Ok(Value::Array(items))
    }
}

fn bind(def: &TypeDef, args: &[GenericArg], outer: &Bindings, name: &str) -> Decoded<Bindings> {
    if def.generics.len() != args.len() {
        return Err(DecodeError::Invalid(format!("type {name} takes {} generic(s), got {}", def.generics.len(), args.len())));
    }
    let mut bindings = Bindings::default();
    for (param, arg) in def.generics.iter().zip(args) {
        match arg {
            GenericArg::Type(Ty::Generic(outer_name)) => {
                if let Some(bound) = outer.types.get(outer_name) {
                    bindings.types.insert(param.clone(), bound.clone());
                }
                if let Some(&bound) = outer.consts.get(outer_name) {
                    bindings.consts.insert(param.clone(), bound);
                }
            }
            GenericArg::Type(ty) => {
                bindings.types.insert(param.clone(), ty.clone());
            }
            GenericArg::Const(value) => {
                bindings.consts.insert(param.clone(), *value);
            }
        }
    }
    Ok(bindings)
}

fn unsigned(value: u128) -> Value {
    if value <= MAX_SAFE_INTEGER {
        Value::Number(Number::from(value as u64))
    } else {
        Value::String(value.to_string())
    }
}

fn signed(value: i128) -> Value {
    if value.unsigned_abs() <= MAX_SAFE_INTEGER {
        Value::Number(Number::from(value as i64))
    } else {
        Value::String(value.to_string())
    }
}

/// JSON has no NaN or infinity; like `JSON.stringify`, they become null.
fn float(value: f64) -> Value {
    Number::from_f64(value).map(Value::Number).unwrap_or(Value::Null)
}

pub fn bytea(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(2 + bytes.len() * 2);
    out.push_str("\\x");
    push_hex(&mut out, bytes);
    out
}

/// Lowercase hex of `bytes`, appended without a temporary per byte.
pub fn push_hex(out: &mut String, bytes: &[u8]) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for &byte in bytes {
        out.push(DIGITS[(byte >> 4) as usize] as char);
        out.push(DIGITS[(byte & 15) as usize] as char);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::idl::Variant;

    fn read(ty: Ty, bytes: &[u8]) -> Decoded<Value> {
        let types = HashMap::new();
        let mut reader = Reader::new(bytes, &types);
        let value = reader.value(&ty)?;
        reader.finish()?;
        Ok(value)
    }

    #[test]
    fn integers_are_numbers_when_exact_else_decimal_strings() {
        assert_eq!(read(Ty::U64, &((1u64 << 53) - 1).to_le_bytes()).unwrap(), Value::from(9_007_199_254_740_991u64));
        assert_eq!(read(Ty::U64, &(1u64 << 53).to_le_bytes()).unwrap(), Value::from("9007199254740992"));
        assert_eq!(read(Ty::I64, &(-5i64).to_le_bytes()).unwrap(), Value::from(-5));
        assert_eq!(read(Ty::I128, &i128::MIN.to_le_bytes()).unwrap(), Value::from(i128::MIN.to_string()));
        assert_eq!(read(Ty::U128, &u128::MAX.to_le_bytes()).unwrap(), Value::from(u128::MAX.to_string()));
    }

    #[test]
    fn short_and_long_payloads_are_errors() {
        assert_eq!(read(Ty::U32, &[1, 2]), Err(DecodeError::TooShort { needed: 2, at: 0 }));
        assert_eq!(read(Ty::U8, &[1, 2]), Err(DecodeError::TrailingBytes { left: 1 }));
        // A huge declared length must not allocate: it fails on the bytes that are missing.
        assert!(matches!(read(Ty::Vec(Box::new(Ty::U64)), &u32::MAX.to_le_bytes()), Err(DecodeError::TooShort { .. })));
        assert!(matches!(read(Ty::Bool, &[2]), Err(DecodeError::Invalid(_))));
    }

    #[test]
    fn composite_types() {
        let mut types = HashMap::new();
        types.insert(
            "Side".to_string(),
            TypeDef {
                generics: vec![],
                body: TypeBody::Enum(vec![
                    Variant { name: "Buy".into(), fields: Fields::Unit },
                    Variant { name: "Sell".into(), fields: Fields::Named(vec![("min".into(), Ty::U16)]) },
                    Variant { name: "Pair".into(), fields: Fields::Tuple(vec![Ty::U8, Ty::Bool]) },
                ]),
            },
        );
        let side = || Ty::Defined { name: "Side".into(), generics: vec![] };
        let layout = Fields::Named(vec![
            ("side".into(), Ty::Vec(Box::new(side()))),
            ("memo".into(), Ty::Option(Box::new(Ty::String))),
            ("raw".into(), Ty::Bytes),
            ("tag".into(), Ty::Array(Box::new(Ty::U8), ArrayLen::Fixed(2))),
            ("owner".into(), Ty::COption(Box::new(Ty::Pubkey))),
        ]);
        let mut bytes = vec![3, 0, 0, 0, 0, 1, 7, 0, 2, 9, 1];
        bytes.extend([1, 2, 0, 0, 0, b'h', b'i']);
        bytes.extend([2, 0, 0, 0, 0xab, 0xcd]);
        bytes.extend([4, 5]);
        bytes.extend([0, 0, 0, 0]);
        let mut reader = Reader::new(&bytes, &types);
        let value = reader.fields(&layout).unwrap();
        reader.finish().unwrap();
        assert_eq!(
            value,
            serde_json::json!({
                "side": [{ "Buy": {} }, { "Sell": { "min": 7 } }, { "Pair": { "0": 9, "1": true } }],
                "memo": "hi",
                "raw": "\\xabcd",
                "tag": [4, 5],
                "owner": null,
            })
        );
    }
}
