//! Names for matching: folding (case, accents, punctuation), nicknames, organisation
//! stopwords, a phonetic key per token, and the similarity of two names.

use super::*;

fn fold_char(c: char, out: &mut String) {
    let lower: String = c.to_lowercase().collect();
    for c in lower.chars() {
        let s: &str = match c {
            'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' | 'ă' | 'ą' => "a",
            'æ' => "ae",
            'ç' | 'ć' | 'ĉ' | 'ċ' | 'č' => "c",
            'ď' | 'đ' | 'ð' => "d",
            'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ĕ' | 'ė' | 'ę' | 'ě' => "e",
            'ĝ' | 'ğ' | 'ġ' | 'ģ' => "g",
            'ĥ' | 'ħ' => "h",
            'ì' | 'í' | 'î' | 'ï' | 'ĩ' | 'ī' | 'ĭ' | 'į' | 'ı' => "i",
            'ĵ' => "j",
            'ķ' => "k",
            'ĺ' | 'ļ' | 'ľ' | 'ŀ' | 'ł' => "l",
            'ñ' | 'ń' | 'ņ' | 'ň' => "n",
            'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' | 'ŏ' | 'ő' => "o",
            'œ' => "oe",
            'ŕ' | 'ŗ' | 'ř' => "r",
            'ś' | 'ŝ' | 'ş' | 'š' | 'ș' => "s",
            'ß' => "ss",
            'ţ' | 'ť' | 'ŧ' | 'ț' => "t",
            'ù' | 'ú' | 'û' | 'ü' | 'ũ' | 'ū' | 'ŭ' | 'ů' | 'ű' | 'ų' => "u",
            'ŵ' => "w",
            'ý' | 'ÿ' | 'ŷ' => "y",
            'ź' | 'ż' | 'ž' => "z",
            'þ' => "th",
            // Cyrillic (Russian, Ukrainian, Bulgarian letters).
            'а' => "a",
            'б' => "b",
            'в' => "v",
            'г' => "g",
            'ґ' => "g",
            'д' => "d",
            'е' | 'ё' | 'э' => "e",
            'є' => "ye",
            'ж' => "zh",
            'з' => "z",
            'и' | 'і' => "i",
            'ї' => "yi",
            'й' => "y",
            'к' => "k",
            'л' => "l",
            'м' => "m",
            'н' => "n",
            'о' => "o",
            'п' => "p",
            'р' => "r",
            'с' => "s",
            'т' => "t",
            'у' => "u",
            'ф' => "f",
            'х' => "kh",
            'ц' => "ts",
            'ч' => "ch",
            'ш' => "sh",
            'щ' => "shch",
            'ъ' | 'ь' => "",
            'ы' => "y",
            'ю' => "yu",
            'я' => "ya",
            other => {
                out.push(other);
                continue;
            }
        };
        out.push_str(s);
    }
}

/// Lower-case ASCII-folded text with everything but letters and digits turned into spaces.
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        fold_char(c, &mut out);
    }
    out.chars()
        .map(|c| if c.is_alphanumeric() { c } else { ' ' })
        .collect()
}

/// Nicknames and spelling families, each mapped to one canonical form. Only unambiguous
/// names are listed ("Al" could be Albert, Alan or Alexander, so it is not).
const NICKNAMES: &[(&str, &[&str])] = &[
    (
        "william",
        &["bill", "billy", "will", "willy", "wilhelm", "guillaume"],
    ),
    ("robert", &["bob", "bobby", "rob", "robbie", "roberto"]),
    (
        "michael",
        &[
            "mike", "mick", "mikhail", "michal", "miguel", "michele", "mikael",
        ],
    ),
    (
        "alexander",
        &[
            "alex",
            "alexandr",
            "aleksandr",
            "aleksander",
            "alexandre",
            "alejandro",
            "alessandro",
            "sasha",
            "sascha",
            "oleksandr",
        ],
    ),
    (
        "mohammed",
        &[
            "muhammad", "mohamed", "mohammad", "muhammed", "mohamad", "mehmet", "mohd", "mahomed",
        ],
    ),
    ("james", &["jim", "jimmy", "jamie", "jaime"]),
    (
        "john",
        &[
            "jon", "johnny", "jack", "johann", "johannes", "ivan", "juan", "giovanni", "hans",
        ],
    ),
    (
        "elizabeth",
        &[
            "liz",
            "beth",
            "betty",
            "eliza",
            "elisabeth",
            "elisabetta",
            "elizaveta",
        ],
    ),
    (
        "katherine",
        &[
            "kate",
            "katie",
            "kathy",
            "catherine",
            "katharina",
            "katarzyna",
            "ekaterina",
            "yekaterina",
        ],
    ),
    (
        "richard",
        &["rick", "ricky", "dick", "rich", "ricardo", "riccardo"],
    ),
    ("thomas", &["tom", "tommy", "tomas", "tomasz", "tommaso"]),
    (
        "joseph",
        &["joe", "joey", "josef", "giuseppe", "jose", "jozef", "iosif"],
    ),
    ("daniel", &["dan", "danny", "danilo"]),
    ("david", &["dave", "davy", "davide"]),
    (
        "edward",
        &["ed", "eddie", "ted", "eduard", "eduardo", "edoardo"],
    ),
    (
        "charles",
        &["charlie", "chuck", "carlos", "carlo", "karl", "karel"],
    ),
    (
        "anthony",
        &["tony", "antonio", "anton", "antoine", "antoni"],
    ),
    (
        "christopher",
        &["chris", "kris", "christoph", "krzysztof", "cristoforo"],
    ),
    (
        "nicholas",
        &[
            "nick", "nicky", "nikolai", "nikolay", "nikolaus", "nicolas", "niklas", "nicola",
        ],
    ),
    (
        "peter",
        &[
            "pete", "pyotr", "petr", "pietro", "pierre", "piotr", "pedro",
        ],
    ),
    (
        "stephen",
        &[
            "steve", "steven", "stefan", "stephan", "esteban", "stefano", "stepan",
        ],
    ),
    (
        "matthew",
        &["matt", "mathew", "matthias", "matteo", "mateusz", "matvei"],
    ),
    (
        "andrew",
        &[
            "andy", "drew", "andrei", "andrey", "andreas", "andrzej", "andrea", "andres",
        ],
    ),
    ("benjamin", &["ben", "benny"]),
    ("samuel", &["sam", "sammy"]),
    (
        "margaret",
        &["maggie", "meg", "peggy", "margarete", "margherita"],
    ),
    ("patricia", &["pat", "patty", "trish"]),
    ("jennifer", &["jen", "jenny"]),
    ("susan", &["sue", "susie", "suzanne"]),
    ("ahmed", &["ahmad", "achmed", "ahmet"]),
    ("yusuf", &["youssef", "yousef", "yusef", "jusuf"]),
    ("dmitri", &["dmitry", "dimitri", "dmitrii", "dima"]),
    ("sergei", &["sergey", "serge", "sergio", "serhiy"]),
    (
        "george",
        &["georg", "georgios", "jorge", "giorgio", "georgi", "giorgi"],
    ),
    (
        "henry",
        &["harry", "hank", "heinrich", "henri", "enrique", "enrico"],
    ),
    (
        "francis",
        &[
            "frank",
            "francesco",
            "franz",
            "francois",
            "francisco",
            "frantisek",
        ],
    ),
    ("paul", &["pablo", "paolo", "pavel", "pawel"]),
    ("mary", &["maria", "marie", "mariya", "molly"]),
];

/// Legal-form words that say nothing about which organisation is meant.
const ORG_STOPWORDS: &[&str] = &[
    "ltd",
    "limited",
    "gmbh",
    "inc",
    "llc",
    "bv",
    "nv",
    "sa",
    "sarl",
    "srl",
    "spa",
    "ag",
    "plc",
    "co",
    "company",
    "corp",
    "corporation",
    "kg",
    "oy",
    "ab",
    "as",
    "the",
];

pub(super) fn nickname_map() -> HashMap<&'static str, &'static str> {
    let mut map = HashMap::new();
    for (canonical, variants) in NICKNAMES {
        for v in *variants {
            map.insert(*v, *canonical);
        }
    }
    map
}

/// A phonetic key for blocking: folded, common spelling alternatives merged (ph/f, ck/k, c/k,
/// q/k, z/s, w/v, y/i), vowels and `h` after the first letter dropped, runs collapsed, cut to
/// four letters. "Philip"/"Filip" → "flp", "Mohammed"/"Muhammad" → "md", "Smith"/"Smyth" →
/// "smt". Coarser than Soundex at the first letter on purpose (Soundex keeps P ≠ F).
pub fn phonetic_key(token: &str) -> String {
    let t = token
        .replace("ph", "f")
        .replace("ck", "k")
        .replace(['c', 'q'], "k")
        .replace('z', "s")
        .replace('w', "v")
        .replace('y', "i");
    let mut key = String::new();
    let mut count = 0;
    let mut last: Option<char> = None;
    for (i, c) in t.chars().enumerate() {
        let vowel = matches!(c, 'a' | 'e' | 'i' | 'o' | 'u');
        let c = if i == 0 && vowel { 'a' } else { c };
        if i > 0 && (vowel || c == 'h') {
            continue;
        }
        if last == Some(c) {
            continue;
        }
        key.push(c);
        last = Some(c);
        count += 1;
        if count == 4 {
            break;
        }
    }
    key
}

/// One name of an entity, normalised: the text as written, and canonical tokens (folded,
/// nicknames mapped, legal forms dropped for organisations), sorted.
#[derive(Debug, Clone)]
pub(super) struct Name {
    pub(super) raw: String,
    pub(super) tokens: Vec<String>,
    /// (as written, canonical) for tokens a nickname rule changed.
    pub(super) nicknames: Vec<(String, String)>,
}

pub(super) fn name_of(raw: &str, organisation: bool, nick: &HashMap<&str, &str>) -> Option<Name> {
    let mut tokens = Vec::new();
    let mut nicknames = Vec::new();
    for t in fold(raw).split_whitespace() {
        if organisation && ORG_STOPWORDS.contains(&t) {
            continue;
        }
        match nick.get(t) {
            Some(c) if !organisation => {
                nicknames.push((t.to_string(), c.to_string()));
                tokens.push(c.to_string());
            }
            _ => tokens.push(t.to_string()),
        }
    }
    if tokens.is_empty() {
        return None;
    }
    tokens.sort();
    Some(Name {
        raw: raw.trim().to_string(),
        tokens,
        nicknames,
    })
}

/// Name similarity: every token of the shorter name is matched to its most similar token of
/// the other (Jaro-Winkler), and the weakest of those matches counts, so "Anna Smith" and
/// "John Smith" are not similar just because they share a surname. Different token counts
/// (a middle name on one side) cost 5 %.
pub(super) fn name_similarity(a: &Name, b: &Name) -> f64 {
    let (short, long) = if a.tokens.len() <= b.tokens.len() {
        (a, b)
    } else {
        (b, a)
    };
    let mut weakest: f64 = 1.0;
    for t in &short.tokens {
        let best = long
            .tokens
            .iter()
            .map(|u| {
                if t.len() == 1 || u.len() == 1 {
                    // An initial matches a name with that first letter, weakly.
                    if t.chars().next() == u.chars().next() {
                        0.85
                    } else {
                        0.0
                    }
                } else {
                    strsim::jaro_winkler(t, u)
                }
            })
            .fold(0.0, f64::max);
        weakest = weakest.min(best);
    }
    if short.tokens.len() != long.tokens.len() {
        weakest *= 0.95;
    }
    weakest
}
