//! Anchors of the audit chain outside the case file. The chain proves that records were not
//! changed in place, but whoever can write the file can also cut its end off, or rewrite it
//! and compute every hash again: an anchor inside the same file moves with them. So every
//! committed head is also
//!
//! - appended to the workstation's **anchor log**, a small JSON-lines file outside the case
//!   (in the user's data folder unless pointed elsewhere, for example at a write-once medium),
//!   and
//! - **signed** with the workstation's Ed25519 key when one was made (`copkit audit keygen`),
//!   the signature kept in the case header and in the anchor line.
//!
//! `audit verify` compares the file with both (see `verify.rs`). Where they live is decided
//! once per process: [`configure`] (the command line's `--anchor-log` / `--signing-key`, a
//! preference), else the environment (`COPKIT_ANCHOR_LOG`, `COPKIT_SIGNING_KEY`, or the folder
//! `COPKIT_DATA_DIR`), else the user's data folder. Nothing here opens a network connection.

use super::error::StoreError;
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

/// Where the anchor log and the signing key are.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Workstation {
    /// The anchor log (`None`: anchoring is off).
    pub anchor_log: Option<PathBuf>,
    /// The signing key file (`None`: heads are not signed). A path whose file does not exist
    /// means the same until `copkit audit keygen` makes it.
    pub signing_key: Option<PathBuf>,
}

/// What was configured, and the key once loaded.
struct State {
    workstation: Workstation,
    key: Option<Arc<SigningKey>>,
    key_loaded: bool,
}

static STATE: RwLock<Option<State>> = RwLock::new(None);

/// The folder COPKIT keeps the workstation's files in: `COPKIT_DATA_DIR`, else the platform's
/// per-user data folder.
pub fn data_dir() -> Option<PathBuf> {
    let env = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    if let Some(dir) = env("COPKIT_DATA_DIR") {
        return Some(dir);
    }
    if cfg!(test) {
        // The crate's own unit tests never touch the user's real anchor log or key.
        return Some(
            std::env::temp_dir().join(format!("copkit-unit-tests-{}", std::process::id())),
        );
    }
    // $XDG_DATA_HOME or ~/.local/share on Linux, %APPDATA% (roaming) on Windows,
    // ~/Library/Application Support on macOS: the folders this function read by hand before.
    dirs::data_dir().map(|base| base.join("copkit"))
}

impl Workstation {
    /// From the environment and the data folder. `COPKIT_ANCHOR_LOG=off` turns anchoring off.
    pub fn from_environment() -> Workstation {
        let env = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty());
        let dir = data_dir();
        let anchor_log = match env("COPKIT_ANCHOR_LOG") {
            Some(v) if v == "off" => None,
            Some(v) => Some(PathBuf::from(v)),
            None => dir.as_ref().map(|d| d.join("anchors.jsonl")),
        };
        let signing_key = env("COPKIT_SIGNING_KEY")
            .map(PathBuf::from)
            .or_else(|| dir.as_ref().map(|d| d.join("workstation.key")));
        Workstation {
            anchor_log,
            signing_key,
        }
    }
}

/// Sets where this process anchors and which key it signs with (before the first case opens;
/// a later call replaces the setting).
pub fn configure(workstation: Workstation) {
    let mut state = STATE
        .write()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    *state = Some(State {
        workstation,
        key: None,
        key_loaded: false,
    });
}

/// The workstation in force.
pub fn workstation() -> Workstation {
    with_state(|s| s.workstation.clone())
}

fn with_state<T>(f: impl FnOnce(&mut State) -> T) -> T {
    let mut guard = STATE
        .write()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let state = guard.get_or_insert_with(|| State {
        workstation: Workstation::from_environment(),
        key: None,
        key_loaded: false,
    });
    f(state)
}

/// The signing key, loaded once. A key file that exists but cannot be read is an error (a
/// head must not silently go unsigned); one that does not exist means no signing.
pub(crate) fn signing_key() -> Result<Option<Arc<SigningKey>>, StoreError> {
    with_state(|s| {
        if s.key_loaded {
            return Ok(s.key.clone());
        }
        let key = match &s.workstation.signing_key {
            Some(path) if path.exists() => Some(Arc::new(read_key(path)?)),
            _ => None,
        };
        s.key = key.clone();
        s.key_loaded = true;
        Ok(key)
    })
}

fn read_key(path: &Path) -> Result<SigningKey, StoreError> {
    let text = std::fs::read_to_string(path).map_err(|e| StoreError::io(path, e))?;
    let bytes = hex::decode(text.trim()).ok();
    let seed: [u8; 32] = bytes
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| StoreError::Key {
            path: path.to_path_buf(),
            problem: "it does not hold a key in the form `copkit audit keygen` writes (64 \
                      hexadecimal digits)"
                .into(),
        })?;
    Ok(SigningKey::from_bytes(&seed))
}

/// Makes a new workstation key at `path` (readable by its owner only) and its public half
/// beside it (`.pub`). An existing key is never overwritten. Returns the public key in hex.
pub fn keygen(path: &Path) -> Result<String, StoreError> {
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).map_err(|e| StoreError::Key {
        path: path.to_path_buf(),
        problem: format!("the operating system gave no randomness for a key ({e})"),
    })?;
    let key = SigningKey::from_bytes(&seed);
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| StoreError::io(dir, e))?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            StoreError::AlreadyExists(path.to_path_buf())
        } else {
            StoreError::io(path, e)
        }
    })?;
    file.write_all(format!("{}\n", hex::encode(seed)).as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|e| StoreError::io(path, e))?;
    let public = hex::encode(key.verifying_key().as_bytes());
    let mut pub_path = path.as_os_str().to_owned();
    pub_path.push(".pub");
    std::fs::write(&pub_path, format!("{public}\n")).map_err(|e| StoreError::io(&pub_path, e))?;
    // The process signs with the new key from now on.
    with_state(|s| s.key_loaded = false);
    Ok(public)
}

/// Reads a public key: 64 hex digits, in a `.pub` file or given as they are.
pub fn read_public_key(text_or_path: &str) -> Result<VerifyingKey, StoreError> {
    let path = Path::new(text_or_path);
    let text = if path.exists() {
        std::fs::read_to_string(path).map_err(|e| StoreError::io(path, e))?
    } else {
        text_or_path.to_string()
    };
    let bytes: Option<[u8; 32]> = hex::decode(text.trim())
        .ok()
        .and_then(|b| b.try_into().ok());
    bytes
        .and_then(|b| VerifyingKey::from_bytes(&b).ok())
        .ok_or_else(|| StoreError::Key {
            path: path.to_path_buf(),
            problem: "it is not an Ed25519 public key of 64 hexadecimal digits".into(),
        })
}

/// The public half of the workstation's key, if it has one.
pub fn workstation_public_key() -> Result<Option<VerifyingKey>, StoreError> {
    Ok(signing_key()?.map(|k| k.verifying_key()))
}

/// What is signed: the case, the record number and its hash.
fn signed_message(case_id: &str, seq: i64, head: &str) -> Vec<u8> {
    format!("copkit audit head v1\n{case_id}\n{seq}\n{head}\n").into_bytes()
}

/// A signature of one head, as the case header and the anchor log keep it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeadSignature {
    pub seq: i64,
    pub head: String,
    /// The signer's public key, hex.
    pub key: String,
    /// The Ed25519 signature, hex.
    pub signature: String,
}

impl HeadSignature {
    pub(crate) fn make(key: &SigningKey, case_id: &str, seq: i64, head: &str) -> HeadSignature {
        let signature = key.sign(&signed_message(case_id, seq, head));
        HeadSignature {
            seq,
            head: head.to_string(),
            key: hex::encode(key.verifying_key().as_bytes()),
            signature: hex::encode(signature.to_bytes()),
        }
    }

    /// Whether the signature is valid for this case under the key it names.
    pub fn is_valid(&self, case_id: &str) -> bool {
        let key: Option<[u8; 32]> = hex::decode(&self.key).ok().and_then(|b| b.try_into().ok());
        let sig: Option<[u8; 64]> = hex::decode(&self.signature)
            .ok()
            .and_then(|b| b.try_into().ok());
        let (Some(key), Some(sig)) = (key, sig) else {
            return false;
        };
        let Ok(key) = VerifyingKey::from_bytes(&key) else {
            return false;
        };
        key.verify(
            &signed_message(case_id, self.seq, &self.head),
            &Signature::from_bytes(&sig),
        )
        .is_ok()
    }
}

/// One line of the anchor log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Anchor {
    pub case_id: String,
    pub seq: i64,
    pub head: String,
    pub time_utc: String,
    /// Where the case was when the head was written (for the reader; not checked).
    pub file: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<HeadSignature>,
}

/// Appends one anchor: one line, one `write` on a file opened for appending, then synced, so
/// that concurrent writers never interleave within a line.
pub(crate) fn append(log: &Path, anchor: &Anchor) -> Result<(), StoreError> {
    if let Some(dir) = log.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| StoreError::io(dir, e))?;
    }
    let mut line = serde_json::to_string(anchor)?;
    line.push('\n');
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .map_err(|e| StoreError::io(log, e))?;
    file.write_all(line.as_bytes())
        .and_then(|()| file.sync_data())
        .map_err(|e| StoreError::io(log, e))?;
    Ok(())
}

/// The largest anchor log read (a log of a million commands is about 300 MB).
const MAX_LOG_BYTES: u64 = 1 << 30;

/// The anchors of one case in a log, in the order written. Lines that are not anchors (a
/// line cut short by a crash) are skipped and counted.
pub(crate) fn read(log: &Path, case_id: &str) -> Result<(Vec<Anchor>, usize), StoreError> {
    use std::io::BufRead;
    let file = match std::fs::File::open(log) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((Vec::new(), 0)),
        Err(e) => return Err(StoreError::io(log, e)),
    };
    let len = file.metadata().map_err(|e| StoreError::io(log, e))?.len();
    if len > MAX_LOG_BYTES {
        return Err(StoreError::Invalid(format!(
            "the anchor log is larger than {} MB; start a new one (--anchor-log) and keep this \
             one: {}",
            MAX_LOG_BYTES >> 20,
            log.display()
        )));
    }
    let needle = format!("\"case_id\":\"{case_id}\"");
    let mut anchors = Vec::new();
    let mut skipped = 0;
    for line in std::io::BufReader::new(file).lines() {
        let line = line.map_err(|e| StoreError::io(log, e))?;
        if !line.contains(&needle) {
            // Another case's anchor, or a torn line: told apart without parsing (a case is
            // opened against a log of every case, and parsing each line cost seconds on a
            // log of 300,000).
            let whole = line.starts_with("{\"case_id\":\"") && line.ends_with('}');
            if !line.trim().is_empty() && !whole {
                skipped += 1;
            }
            continue;
        }
        match serde_json::from_str::<Anchor>(&line) {
            Ok(a) if a.case_id == case_id => anchors.push(a),
            _ => skipped += 1,
        }
    }
    Ok((anchors, skipped))
}

/// The workstation's consultation log (beside the anchor log, else in the data folder): where
/// `audit verify` records itself when the case cannot be written. The case takes the lines
/// that concern it in the next time it is opened writable (`Case::take_in_consultations`).
pub fn consultation_log() -> Option<PathBuf> {
    workstation()
        .anchor_log
        .as_ref()
        .and_then(|l| l.parent().map(Path::to_path_buf))
        .or_else(data_dir)
        .map(|dir| dir.join("consultations.jsonl"))
}

/// Appends a line to the workstation's consultation log ([`consultation_log`]).
pub fn log_consultation(entry: &serde_json::Value) -> Result<PathBuf, StoreError> {
    let path = consultation_log().ok_or_else(|| {
        StoreError::Invalid(
            "no data folder for the workstation's consultation log (set COPKIT_DATA_DIR)".into(),
        )
    })?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| StoreError::io(dir, e))?;
    }
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .map_err(|e| StoreError::io(&path, e))?;
    file.write_all(format!("{entry}\n").as_bytes())
        .and_then(|()| file.sync_data())
        .map_err(|e| StoreError::io(&path, e))?;
    Ok(path)
}

/// The consultation log's lines about one case (by its `case_id`), in the order written.
/// Lines that cannot be read (one cut short by a crash) are skipped.
pub(crate) fn read_consultations(
    log: &Path,
    case_id: &str,
) -> Result<Vec<serde_json::Value>, StoreError> {
    use std::io::BufRead;
    let file = match std::fs::File::open(log) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(StoreError::io(log, e)),
    };
    if file.metadata().map_err(|e| StoreError::io(log, e))?.len() > MAX_LOG_BYTES {
        return Err(StoreError::Invalid(format!(
            "the consultation log is larger than {} MB; move it aside (keep it) so that a new \
             one is started: {}",
            MAX_LOG_BYTES >> 20,
            log.display()
        )));
    }
    let mut entries = Vec::new();
    for line in std::io::BufReader::new(file).lines() {
        let line = line.map_err(|e| StoreError::io(log, e))?;
        if !line.contains(case_id) {
            continue;
        }
        if let Ok(entry) = serde_json::from_str::<serde_json::Value>(&line)
            && entry.get("case_id").and_then(serde_json::Value::as_str) == Some(case_id)
        {
            entries.push(entry);
        }
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_holds_only_for_its_case_record_and_head() {
        let key = SigningKey::from_bytes(&[7; 32]);
        let sig = HeadSignature::make(&key, "case-1", 5, "abc");
        assert!(sig.is_valid("case-1"));
        assert!(!sig.is_valid("case-2"));
        assert!(
            !HeadSignature {
                seq: 6,
                ..sig.clone()
            }
            .is_valid("case-1")
        );
        assert!(
            !HeadSignature {
                head: "abd".into(),
                ..sig
            }
            .is_valid("case-1")
        );
    }

    #[test]
    fn anchors_are_read_back_per_case_and_a_torn_line_is_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("sub/anchors.jsonl");
        for (case, seq) in [("a", 1), ("b", 1), ("a", 2)] {
            append(
                &log,
                &Anchor {
                    case_id: case.into(),
                    seq,
                    head: format!("h{seq}"),
                    time_utc: "t".into(),
                    file: "f".into(),
                    signature: None,
                },
            )
            .unwrap();
        }
        let mut f = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
        f.write_all(b"{\"case_id\":\"a\",\"seq\":3,\"he").unwrap();
        let (anchors, skipped) = read(&log, "a").unwrap();
        assert_eq!(
            anchors.iter().map(|a| a.seq).collect::<Vec<_>>(),
            vec![1, 2]
        );
        assert_eq!(skipped, 1);
    }

    #[test]
    fn a_new_key_is_private_to_its_owner_and_never_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k/workstation.key");
        let public = keygen(&path).unwrap();
        let key = read_key(&path).unwrap();
        assert_eq!(hex::encode(key.verifying_key().as_bytes()), public);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o077, 0, "{mode:o}");
        }
        assert!(matches!(keygen(&path), Err(StoreError::AlreadyExists(_))));
        let pub_path = dir.path().join("k/workstation.key.pub");
        assert_eq!(
            read_public_key(pub_path.to_str().unwrap()).unwrap(),
            key.verifying_key()
        );
    }
}
