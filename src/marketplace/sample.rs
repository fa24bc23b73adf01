//! Production-like data: the names and free text real buyers send. Enterprise, user and
//! department names are Chinese, with full-width punctuation; buyer-entered values are free
//! text with `& = < > + / " \` and a URL with a query string; a few values sit at the maximum
//! length their field's table allows. A merchant whose canonical JSON escapes non-ASCII as
//! `\uXXXX`, or HTML-escapes `<>&='`, signs other bytes than KooGallery and is refused
//! locally as it would be in production.
//!
//! Drawn from the marketplace's stable seed (a scenario's, a console product's), never from
//! a run's random ids, so transcripts of two runs agree.

/// Enterprise names (tenantSync `name`, 255 characters at most).
const ENTERPRISES: &[&str] = &[
    "华为技术有限公司",
    "深圳市云商软件科技有限公司（测试）",
    "北京＆上海 “数智” 联合实验室",
    "杭州西湖区<示范>企业=一号",
];

/// Person names (authSync `name`, 64 characters at most).
const PEOPLE: &[&str] = &[
    "张三",
    "李四",
    "王五",
    "欧阳娜娜",
    "赵六·Zhao",
    "钱七（实习）",
];

/// Department names (`orgName`, 128 characters at most).
const DEPARTMENTS: &[&str] = &["研发部", "市场部", "财务与法务部（华东）", "产品部/体验组"];

/// Buyer-entered free text: every character a careless canonicaliser escapes.
const FREE_TEXT: &[&str] = &[
    r#"A&B <研发> "一期" = 1+1 / 2 \ 备注"#,
    "https://buyer.example.com/callback?tenant=华为&x=1+2&y=<a>",
    "深圳市龙岗区坂田街道 华为基地 B 区 3 栋，邮编=518129",
];

/// One pick from a pool, by seed and index.
fn pick(pool: &[&'static str], seed: u64, index: u64) -> &'static str {
    let mixed =
        (seed ^ index.wrapping_mul(0x9E37_79B9_7F4A_7C15)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    pool[(mixed >> 33) as usize % pool.len()]
}

/// `text` padded with Chinese characters to exactly `max` characters: a value at its field's
/// maximum length (the length counts characters, as the spec tables do).
fn at_max(text: &str, max: usize) -> String {
    let mut value: String = text.chars().take(max).collect();
    let missing = max.saturating_sub(value.chars().count());
    value.extend(std::iter::repeat_n('长', missing));
    value
}

/// The `index`-th enterprise's name; the first of a marketplace is at the field's maximum.
pub(crate) fn enterprise(seed: u64, index: u64) -> String {
    let name = pick(ENTERPRISES, seed, index);
    if index == 0 {
        at_max(name, 255)
    } else {
        name.to_owned()
    }
}

/// The `index`-th person's name; every seventh is at the field's maximum.
pub(crate) fn person(seed: u64, index: u64) -> String {
    let name = pick(PEOPLE, seed, index);
    if index % 7 == 3 {
        at_max(name, 64)
    } else {
        name.to_owned()
    }
}

/// The `index`-th department's name.
pub(crate) fn department(seed: u64, index: u64) -> String {
    pick(DEPARTMENTS, seed, index).to_owned()
}

/// The `index`-th piece of buyer-entered free text.
pub(crate) fn free_text(seed: u64, index: u64) -> String {
    pick(FREE_TEXT, seed, index).to_owned()
}

/// The buyer's name on an order (V1 `customerName`, 64 characters at most).
pub(crate) fn customer(seed: u64) -> String {
    person(seed, 0x00C5)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_chinese_and_free_text_holds_what_careless_canonicalisers_escape() {
        let seed = 42;
        assert!((0..8).all(|i| !enterprise(seed, i).is_ascii()));
        assert!((0..8).all(|i| !person(seed, i).is_ascii()));
        assert!((0..8).all(|i| !department(seed, i).is_ascii()));
        let all: String = (0..16).map(|i| free_text(seed, i)).collect();
        for c in ['&', '=', '<', '>', '+', '/', '"', '\\', '?'] {
            assert!(FREE_TEXT.concat().contains(c), "{c} missing from the pool");
        }
        assert!(!all.is_empty());
    }

    #[test]
    fn some_values_sit_at_their_maximum_length_and_picks_are_stable() {
        assert_eq!(enterprise(1, 0).chars().count(), 255);
        assert_eq!(person(1, 3).chars().count(), 64);
        assert_eq!(person(9, 5), person(9, 5));
        assert_eq!(enterprise(9, 2), enterprise(9, 2));
    }
}
