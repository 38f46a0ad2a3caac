//! Anchor IDLs, both formats, read into one model.
//!
//! Legacy (before Anchor 0.30): events carry their fields inline, `publicKey`,
//! `"defined": "Name"`, and discriminators are derived: sha256("event:Name")[..8] for events,
//! sha256("global:snake_name")[..8] for instructions. 0.30+: `address`, explicit
//! `discriminator` arrays, layouts in `types`, `pubkey`, `{"defined": {"name": ...}}` and
//! generics. No single Anchor release reads both; this reads either.
//!
//! The 0.30 spec types are parsed by hand rather than through `anchor-lang-idl-spec`: that
//! crate models only the new format, and the legacy one needs its own reader anyway.

use std::collections::HashMap;

use serde_json::Value;
use sha2::{Digest, Sha256};

#[derive(Clone, Debug, PartialEq)]
pub enum Ty {
    Bool,
    U8,
    I8,
    U16,
    I16,
    U32,
    I32,
    U64,
    I64,
    U128,
    I128,
    F32,
    F64,
    String,
    Bytes,
    Pubkey,
    Option(Box<Ty>),
    COption(Box<Ty>),
    Vec(Box<Ty>),
    Array(Box<Ty>, ArrayLen),
    Defined { name: String, generics: Vec<GenericArg> },
    Generic(String),
}

#[derive(Clone, Debug, PartialEq)]
pub enum ArrayLen {
    Fixed(usize),
    Generic(String),
}

#[derive(Clone, Debug, PartialEq)]
pub enum GenericArg {
    Type(Ty),
    Const(usize),
}

#[derive(Clone, Debug, PartialEq)]
pub enum Fields {
    Named(Vec<(String, Ty)>),
    Tuple(Vec<Ty>),
    Unit,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Variant {
    pub name: String,
    pub fields: Fields,
}

#[derive(Clone, Debug, PartialEq)]
pub enum TypeBody {
    Struct(Fields),
    Enum(Vec<Variant>),
    Alias(Ty),
}

#[derive(Clone, Debug, PartialEq)]
pub struct TypeDef {
    /// Generic parameter names, in order.
    pub generics: Vec<String>,
    pub body: TypeBody,
}

#[derive(Clone, Debug, PartialEq)]
pub struct EventDef {
    pub name: String,
    pub discriminator: Vec<u8>,
    pub fields: Fields,
}

#[derive(Clone, Debug, PartialEq)]
pub struct InstructionDef {
    pub name: String,
    pub discriminator: Vec<u8>,
    /// Always `Fields::Named` (or `Unit` without arguments).
    pub args: Fields,
    /// Account names in order, nested groups flattened.
    pub accounts: Vec<String>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Idl {
    pub address: Option<String>,
    pub events: Vec<EventDef>,
    pub instructions: Vec<InstructionDef>,
    pub types: HashMap<String, TypeDef>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdlError(pub String);

impl std::fmt::Display for IdlError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

type Parsed<T> = Result<T, IdlError>;

fn err<T>(message: impl Into<String>) -> Parsed<T> {
    Err(IdlError(message.into()))
}

pub fn sighash(namespace: &str, name: &str) -> Vec<u8> {
    Sha256::digest(format!("{namespace}:{name}"))[..8].to_vec()
}

/// Anchor 0.29's `snakeCase` (the `snake-case` package) as used for instruction sighashes:
/// a word boundary before an upper-case letter that follows a lower-case letter or digit, and
/// inside runs of capitals before a capital followed by a lower-case letter.
pub fn snake_case(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::with_capacity(name.len() + 4);
    for (i, &c) in chars.iter().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            let previous = chars[i - 1];
            let next_is_lower = chars.get(i + 1).is_some_and(|n| n.is_ascii_lowercase());
            if previous.is_ascii_lowercase() || previous.is_ascii_digit() || (previous.is_ascii_uppercase() && next_is_lower) {
                out.push('_');
            }
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

/// Anchor 0.29 camelCases legacy field and variant names with the `camelcase` package (6.x);
/// a port of it for ASCII names, so legacy events decode to the keys Anchor gives them
/// (`volume24h` becomes `volume24H`, `StaleForAMM` becomes `staleForAmm`).
pub fn anchor_camel_case(name: &str) -> String {
    let trimmed = name.trim();
    if trimmed.chars().count() <= 1 {
        return trimmed.to_lowercase();
    }
    let mut chars: Vec<char> = trimmed.chars().collect();
    if chars.iter().any(|c| c.is_uppercase()) {
        let (mut last_lower, mut last_upper, mut last_last_upper) = (false, false, false);
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            if last_lower && c.is_uppercase() {
                chars.insert(i, '-');
                last_lower = false;
                last_last_upper = last_upper;
                last_upper = true;
                i += 1;
            } else if last_upper && last_last_upper && c.is_lowercase() {
                chars.insert(i - 1, '-');
                last_last_upper = last_upper;
                last_upper = false;
                last_lower = true;
            } else {
                last_lower = c.is_lowercase();
                last_last_upper = last_upper;
                last_upper = c.is_uppercase();
            }
            i += 1;
        }
    }
    let is_separator = |c: char| matches!(c, '_' | '.' | '-' | ' ');
    let lowered: Vec<char> = chars.iter().collect::<String>().trim_start_matches(is_separator).to_lowercase().chars().collect();
    // Separators followed by an identifier character (or the end) go; the character is upper-cased.
    let mut joined = Vec::with_capacity(lowered.len());
    let mut i = 0;
    while i < lowered.len() {
        if is_separator(lowered[i]) {
            let run_end = (i..lowered.len()).find(|&j| !is_separator(lowered[j])).unwrap_or(lowered.len());
            match lowered.get(run_end) {
                None => break,
                Some(&next) if next.is_alphanumeric() => {
                    joined.extend(next.to_uppercase());
                    i = run_end + 1;
                    continue;
                }
                Some(_) => {}
            }
        }
        joined.push(lowered[i]);
        i += 1;
    }
    // A letter right after a run of digits is upper-cased.
    let mut out = String::with_capacity(joined.len());
    for (i, &c) in joined.iter().enumerate() {
        if i > 0 && joined[i - 1].is_ascii_digit() && c.is_alphabetic() {
            out.extend(c.to_uppercase());
        } else {
            out.push(c);
        }
    }
    out
}

pub fn parse_idl(value: &Value) -> Parsed<Idl> {
    let Value::Object(root) = value else { return err("an IDL must be a JSON object") };
    let is_new_format = root.contains_key("address")
        || root.get("metadata").and_then(|m| m.get("spec")).is_some()
        || root
            .get("instructions")
            .and_then(Value::as_array)
            .is_some_and(|list| list.iter().any(|ix| ix.get("discriminator").is_some()));
    let mut idl = Idl {
        address: root
            .get("address")
            .or_else(|| root.get("metadata").and_then(|m| m.get("address")))
            .and_then(Value::as_str)
            .map(str::to_string),
        ..Idl::default()
    };
    for (index, entry) in array(root.get("types"), "types")?.iter().enumerate() {
        let name = string(entry.get("name"), &format!("types[{index}].name"))?;
        idl.types.insert(name.clone(), type_def(entry, &format!("types[{name}]"))?);
    }
    for (index, event) in array(root.get("events"), "events")?.iter().enumerate() {
        let name = string(event.get("name"), &format!("events[{index}].name"))?;
        let context = format!("events[{name}]");
        let (discriminator, fields) = if is_new_format {
            let discriminator = bytes(event.get("discriminator"), &format!("{context}.discriminator"))?;
            let fields = match idl.types.get(&name) {
                Some(TypeDef { body: TypeBody::Struct(fields), .. }) => fields.clone(),
                Some(_) => return err(format!("{context}: its type in `types` is not a struct")),
                None => return err(format!("{context}: no type named {name} in `types`")),
            };
            (discriminator, fields)
        } else {
            let fields = match event.get("fields") {
                Some(list) => named_fields(list, &context)?,
                None => Fields::Unit,
            };
            (sighash("event", &name), fields)
        };
        idl.events.push(EventDef { name, discriminator, fields });
    }
    for (index, ix) in array(root.get("instructions"), "instructions")?.iter().enumerate() {
        let name = string(ix.get("name"), &format!("instructions[{index}].name"))?;
        let context = format!("instructions[{name}]");
        let discriminator = match ix.get("discriminator") {
            Some(value) => bytes(Some(value), &format!("{context}.discriminator"))?,
            None => sighash("global", &snake_case(&name)),
        };
        let args = match ix.get("args") {
            Some(list) if list.as_array().is_some_and(|l| !l.is_empty()) => named_fields(list, &context)?,
            _ => Fields::Unit,
        };
        let mut accounts = Vec::new();
        flatten_accounts(ix.get("accounts"), &mut accounts, &context)?;
        idl.instructions.push(InstructionDef { name, discriminator, args, accounts });
    }
    if !is_new_format {
        camel_case_names(&mut idl);
    }
    Ok(idl)
}

/// Field and variant names as Anchor 0.29 returns them for a legacy IDL (event and
/// instruction names stay as written).
fn camel_case_names(idl: &mut Idl) {
    fn fields(fields: &mut Fields) {
        if let Fields::Named(named) = fields {
            named.iter_mut().for_each(|(name, _)| *name = anchor_camel_case(name));
        }
    }
    for def in idl.types.values_mut() {
        match &mut def.body {
            TypeBody::Struct(f) => fields(f),
            TypeBody::Enum(variants) => variants.iter_mut().for_each(|variant| {
                variant.name = anchor_camel_case(&variant.name);
                fields(&mut variant.fields);
            }),
            TypeBody::Alias(_) => {}
        }
    }
    idl.events.iter_mut().for_each(|event| fields(&mut event.fields));
    idl.instructions.iter_mut().for_each(|ix| fields(&mut ix.args));
}

fn flatten_accounts(value: Option<&Value>, out: &mut Vec<String>, context: &str) -> Parsed<()> {
    for (index, account) in array(value, &format!("{context}.accounts"))?.iter().enumerate() {
        // Composite account groups nest their accounts in order.
        if let Some(nested) = account.get("accounts") {
            flatten_accounts(Some(nested), out, context)?;
        } else {
            out.push(string(account.get("name"), &format!("{context}.accounts[{index}].name"))?);
        }
    }
    Ok(())
}

fn type_def(entry: &Value, context: &str) -> Parsed<TypeDef> {
    let generics = array(entry.get("generics"), &format!("{context}.generics"))?
        .iter()
        .map(|g| string(g.get("name"), &format!("{context}.generics")))
        .collect::<Parsed<Vec<_>>>()?;
    let Some(body) = entry.get("type") else { return err(format!("{context}: missing `type`")) };
    let kind = string(body.get("kind"), &format!("{context}.type.kind"))?;
    let body = match kind.as_str() {
        "struct" => TypeBody::Struct(match body.get("fields") {
            None => Fields::Unit,
            Some(list) => fields(list, context)?,
        }),
        "enum" => TypeBody::Enum(
            array(body.get("variants"), &format!("{context}.variants"))?
                .iter()
                .enumerate()
                .map(|(index, variant)| {
                    Ok(Variant {
                        name: string(variant.get("name"), &format!("{context}.variants[{index}].name"))?,
                        fields: match variant.get("fields") {
                            None => Fields::Unit,
                            Some(list) => fields(list, &format!("{context}.variants[{index}]"))?,
                        },
                    })
                })
                .collect::<Parsed<_>>()?,
        ),
        "type" => TypeBody::Alias(ty(body.get("alias").unwrap_or(&Value::Null), &format!("{context}.alias"))?),
        // The legacy spelling of an alias.
        "alias" => TypeBody::Alias(ty(body.get("value").unwrap_or(&Value::Null), &format!("{context}.value"))?),
        other => return err(format!("{context}: unsupported type kind '{other}'")),
    };
    Ok(TypeDef { generics, body })
}

/// Struct or variant fields: named (`[{name, type}]`) or a tuple (`[type, ...]`).
fn fields(list: &Value, context: &str) -> Parsed<Fields> {
    let items = array(Some(list), &format!("{context}.fields"))?;
    if items.is_empty() {
        return Ok(Fields::Unit);
    }
    if items.iter().all(|item| item.get("name").is_some() && item.get("type").is_some()) {
        return named_fields(list, context);
    }
    Ok(Fields::Tuple(
        items
            .iter()
            .enumerate()
            .map(|(index, item)| ty(item, &format!("{context}.fields[{index}]")))
            .collect::<Parsed<_>>()?,
    ))
}

fn named_fields(list: &Value, context: &str) -> Parsed<Fields> {
    let items = array(Some(list), &format!("{context}.fields"))?;
    Ok(Fields::Named(
        items
            .iter()
            .enumerate()
            .map(|(index, item)| {
                let name = string(item.get("name"), &format!("{context}.fields[{index}].name"))?;
                let field_ty = ty(item.get("type").unwrap_or(&Value::Null), &format!("{context}.{name}"))?;
                Ok((name, field_ty))
            })
            .collect::<Parsed<_>>()?,
    ))
}

pub fn ty(value: &Value, context: &str) -> Parsed<Ty> {
    match value {
        Value::String(name) => Ok(match name.as_str() {
            "bool" => Ty::Bool,
            "u8" => Ty::U8,
            "i8" => Ty::I8,
            "u16" => Ty::U16,
            "i16" => Ty::I16,
            "u32" => Ty::U32,
            "i32" => Ty::I32,
            "u64" => Ty::U64,
            "i64" => Ty::I64,
            "u128" => Ty::U128,
            "i128" => Ty::I128,
            "f32" => Ty::F32,
            "f64" => Ty::F64,
            "string" => Ty::String,
            "bytes" => Ty::Bytes,
            "publicKey" | "pubkey" => Ty::Pubkey,
            other => return err(format!("{context}: unknown type '{other}'")),
        }),
        Value::Object(object) => {
            if let Some(inner) = object.get("option") {
                Ok(Ty::Option(Box::new(ty(inner, context)?)))
            } else if let Some(inner) = object.get("coption") {
                Ok(Ty::COption(Box::new(ty(inner, context)?)))
            } else if let Some(inner) = object.get("vec") {
                Ok(Ty::Vec(Box::new(ty(inner, context)?)))
            } else if let Some(Value::Array(pair)) = object.get("array") {
                let [element, length] = pair.as_slice() else { return err(format!("{context}: array must be [type, length]")) };
                let length = match length {
                    Value::Number(n) => ArrayLen::Fixed(n.as_u64().ok_or_else(|| IdlError(format!("{context}: bad array length")))? as usize),
                    Value::Object(g) => ArrayLen::Generic(string(g.get("generic"), context)?),
                    _ => return err(format!("{context}: bad array length")),
                };
                Ok(Ty::Array(Box::new(ty(element, context)?), length))
            } else if let Some(defined) = object.get("defined") {
                match defined {
                    Value::String(name) => Ok(Ty::Defined { name: name.clone(), generics: Vec::new() }),
                    Value::Object(d) => Ok(Ty::Defined {
                        name: string(d.get("name"), context)?,
                        generics: array(d.get("generics"), context)?
                            .iter()
                            .map(|g| match g.get("kind").and_then(Value::as_str) {
                                Some("const") => g
                                    .get("value")
                                    .and_then(|v| v.as_str().map(str::to_string).or_else(|| v.as_u64().map(|n| n.to_string())))
                                    .and_then(|v| v.parse().ok())
                                    .map(GenericArg::Const)
                                    .ok_or_else(|| IdlError(format!("{context}: bad const generic"))),
                                _ => Ok(GenericArg::Type(ty(g.get("type").unwrap_or(&Value::Null), context)?)),
                            })
                            .collect::<Parsed<_>>()?,
                    }),
                    _ => err(format!("{context}: bad `defined`")),
                }
            } else if let Some(name) = object.get("generic") {
                Ok(Ty::Generic(string(Some(name), context)?))
            } else {
                err(format!("{context}: unsupported type {value}"))
            }
        }
        _ => err(format!("{context}: unsupported type {value}")),
    }
}

fn array<'a>(value: Option<&'a Value>, context: &str) -> Parsed<&'a [Value]> {
    match value {
        None | Some(Value::Null) => Ok(&[]),
        Some(Value::Array(items)) => Ok(items),
        Some(_) => err(format!("{context} must be an array")),
    }
}

fn string(value: Option<&Value>, context: &str) -> Parsed<String> {
    match value {
        Some(Value::String(text)) => Ok(text.clone()),
        _ => err(format!("{context} must be a string")),
    }
}

fn bytes(value: Option<&Value>, context: &str) -> Parsed<Vec<u8>> {
    array(value, context)?
        .iter()
        .map(|b| b.as_u64().filter(|&b| b < 256).map(|b| b as u8).ok_or_else(|| IdlError(format!("{context} must be bytes"))))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn corpus_idl(name: &str) -> Idl {
        let path = format!("{}/../shared/corpus/idls/{name}.json", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        parse_idl(&serde_json::from_str(&text).unwrap()).unwrap_or_else(|e| panic!("{name}: {e}"))
    }

    #[test]
    fn every_corpus_idl_parses() {
        for name in [
            "drift", "jupiter-dca", "jupiter-v6", "meteora-dlmm-legacy", "meteora-dlmm", "pump-amm-2025-10",
            "pump-amm", "pump-fun-2025-04", "pump-fun-legacy", "pump-fun", "raydium-clmm", "raydium-cp-swap",
        ] {
            let idl = corpus_idl(name);
            assert!(!idl.events.is_empty(), "{name} has no events");
            assert!(!idl.instructions.is_empty(), "{name} has no instructions");
        }
    }

    #[test]
    fn legacy_discriminators_are_derived_like_anchor() {
        let legacy = corpus_idl("pump-fun-legacy");
        let current = corpus_idl("pump-fun");
        let legacy_trade = legacy.events.iter().find(|e| e.name == "TradeEvent").unwrap();
        let current_trade = current.events.iter().find(|e| e.name == "TradeEvent").unwrap();
        assert_eq!(legacy_trade.discriminator, current_trade.discriminator);
        let legacy_buy = legacy.instructions.iter().find(|i| i.name == "buy").unwrap();
        let current_buy = current.instructions.iter().find(|i| i.name == "buy").unwrap();
        assert_eq!(legacy_buy.discriminator, current_buy.discriminator);
    }

    #[test]
    fn snake_case_matches_the_snake_case_package() {
        assert_eq!(snake_case("initializeMarketV2"), "initialize_market_v2");
        assert_eq!(snake_case("swap2"), "swap2");
        assert_eq!(snake_case("setAuthorityInfo"), "set_authority_info");
        assert_eq!(snake_case("withdrawSOL"), "withdraw_sol");
        assert_eq!(snake_case("updateAMMConfig"), "update_amm_config");
    }

    #[test]
    fn camel_case_matches_the_camelcase_package() {
        for (name, expected) in [
            ("volume24h", "volume24H"), ("lastMakerVolume30dTs", "lastMakerVolume30DTs"), ("StaleForAMM", "staleForAmm"),
            ("GooseFXV2", "gooseFxv2"), ("OrderFilledWithAMMJitLPSplit", "orderFilledWithAmmJitLpSplit"), ("0", "0"),
            ("_", "_"), ("__", ""), ("_a", "a"), ("a_", "a"), ("a__b", "aB"), ("u8_val", "u8Val"), ("USDCAmount", "usdcAmount"),
            ("ABCdef_ghi2jk", "abCdefGhi2Jk"), ("token_account_0", "tokenAccount0"), ("sqrt_price_x64", "sqrtPriceX64"),
            ("V2", "v2"), ("Swap2", "swap2"), ("a1b2c3", "a1B2C3"), ("HTTPServer", "httpServer"), ("PDA", "pda"),
            ("solAmount", "solAmount"),
        ] {
            assert_eq!(anchor_camel_case(name), expected, "{name}");
        }
    }
}
